import CrossRes
print("crossres")
