//! (model pending)
