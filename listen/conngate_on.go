//go:build flipbench_conngate

package listen

// countsConnections restores the old gate, which counted open connections:
// an idle keep-alive connection held its slot. It exists so that the
// regression gate can prove it catches that bug (make regress-proof).
const countsConnections = true
