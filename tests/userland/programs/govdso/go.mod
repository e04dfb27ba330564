module govdso
go 1.19
