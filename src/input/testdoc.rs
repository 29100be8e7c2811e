//! Inline policy test inputs (see policy tests).
