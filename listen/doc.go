// Package listen owns an accept gate and a drain for a listener: a wrapper
// that can accept only while its owner has a free job slot, that can take
// what is still queued in the kernel before it stops accepting, and that can
// stop accepting without closing the socket. It knows nothing of HTTP or
// processes: server drains it on a graceful stop, prefork gates and stops it
// in a worker.
package listen
