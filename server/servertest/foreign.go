package servertest

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

// EnvForeign makes a test binary that calls RunIfForeign a server that
// knows nothing of flipbench: "serve" listens on the address in its first
// argument, or on 127.0.0.1:$PORT without one (no /healthz, no address file, none of its flags), GET / answers
// 200 and POST /work takes 10 ms; "exit" exits 3 at once; "deaf" never
// listens.
const EnvForeign = "FLIPBENCH_TEST_FOREIGN"

// RunIfForeign runs the foreign server and exits when EnvForeign asks for
// it; call it first in TestMain.
func RunIfForeign() {
	switch os.Getenv(EnvForeign) {
	case "":
		return
	case "exit":
		os.Exit(3)
	case "deaf":
		time.Sleep(time.Hour)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "hello") })
	mux.HandleFunc("POST /work", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(10 * time.Millisecond)
		fmt.Fprintln(w, "done")
	})
	addr := "127.0.0.1:" + os.Getenv("PORT")
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	fmt.Fprintln(os.Stderr, http.ListenAndServe(addr, mux))
	os.Exit(1)
}
