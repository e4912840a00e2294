//! Hosts the black-box integration tests in `tests/`; no code of its own.
