// Layers module (under construction)
