module gosmp

go 1.19
