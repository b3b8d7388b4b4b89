module tillit

go 1.26.8
