// Datasets module (under construction)
