// Losses module (under construction)
