// Evaluation module (under construction)
