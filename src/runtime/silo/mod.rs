//! Silos.
