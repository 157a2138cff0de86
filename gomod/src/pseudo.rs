//! (interim skeleton; being written)
