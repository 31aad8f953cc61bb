// Package listen owns an accept gate and a drain for a listener: a wrapper
// that admits a connection only while its owner's new work is below its
// capacity (Gate: work, not connections), that can take what is still
// queued in the kernel before it stops accepting, and that can stop
// accepting without closing the socket. Of HTTP it knows only what a
// connection does, through net/http's ConnState and ConnContext hooks, which
// its owner installs (server.ServeGracefully does); of processes nothing:
// server drains it on a graceful stop, prefork gates and stops it in a
// worker, and prefork's hand-off listener shares its Gate.
package listen
