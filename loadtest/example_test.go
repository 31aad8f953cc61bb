package loadtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func ExampleBurst() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // a job
		w.Header().Set("X-Worker-PID", "42")
	}))
	defer srv.Close()

	tgt := vegeta.Target{Method: http.MethodPost, URL: srv.URL + "/flip"}
	rs, err := loadtest.Burst(context.Background(), tgt, 10, loadtest.WithTimeout(time.Minute))
	if err != nil {
		fmt.Println(err)
		return
	}
	m := loadtest.Compute(rs, loadtest.Params{Capacity: 10})
	fmt.Println(m.Requests, "requests,", m.Successes, "ok, per worker", loadtest.FormatCounts(m.Workers))
	// Output: 10 requests, 10 ok, per worker 42:10
}
