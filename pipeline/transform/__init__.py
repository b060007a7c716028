"""Pure transforms: Bronze → Silver (validate, rename, cast, dedupe) and Silver → Gold."""
