package web

// reportRoutes lists the routes of this part of issue 5, served when the server has
// a register. TODO(issue 5): built by its own change.
func (s *Server) reportRoutes() []Route { return nil }
