"""How things look: palettes, state looks, resources and shared widgets' helpers."""
