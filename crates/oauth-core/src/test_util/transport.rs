//! A fake [`Transport`](crate::transport::Transport): scripted answers and
//! recorded requests, no sockets (feature `test-util`).
