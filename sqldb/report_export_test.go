package sqldb

// SetReportPageForTest makes a report read n records or events per query
// until the returned function is called.
func SetReportPageForTest(n int) (restore func()) {
	old := reportPage
	reportPage = n
	return func() { reportPage = old }
}
