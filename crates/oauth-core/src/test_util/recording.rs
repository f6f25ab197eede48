//! A loopback HTTP server that records the exact bytes of each request it
//! receives and answers from a script (feature `test-util`).
