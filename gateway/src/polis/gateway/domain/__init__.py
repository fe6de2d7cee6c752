"""Pure gateway logic: catalogue tree, aggregates, webhook signatures, CSV, charts."""
