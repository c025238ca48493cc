// Optim module (under construction)
