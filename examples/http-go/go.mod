module example.com/http-go

go 1.19
