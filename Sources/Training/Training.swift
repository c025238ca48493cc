// Training module (under construction)
