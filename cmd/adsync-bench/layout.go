package main

// layout is how adsync runs in the bench, and so which processes it
// measures: five `adsync serve SERVICE` processes beside one nats-server,
// or (-one-process) one `adsync run`, the default most users start: the
// five services, the api and an embedded NATS server in one process.
type layout struct {
	oneProcess bool
	// procs are the processes measured, in the order they start; each has
	// a peak RSS column.
	procs []string
	// cpu are the CPU columns of the timeline table: a label and the
	// processes added up in it.
	cpu []cpuColumn
	// desc says how adsync ran, and api how its api ran, for the report.
	desc, api string
}

type cpuColumn struct {
	label string
	procs []string
}

// onePID is the name of the one process of the one-process layout.
const onePID = "adsync run"

func layoutFor(oneProcess bool) layout {
	if oneProcess {
		return layout{oneProcess: true, procs: []string{onePID},
			cpu:  []cpuColumn{{"CPU adsync run", []string{onePID}}},
			desc: "one `adsync run` process (the five services, the api and an embedded NATS server, JetStream on file; `nats.allow_anonymous` so that the bench can watch the bus)",
			api:  "The api of `adsync run`"}
	}
	return layout{procs: services,
		cpu: []cpuColumn{{"CPU reader", []string{"directory-reader"}}, {"CPU diff", []string{"diff"}}, {"CPU writer", []string{"account-writer"}},
			{"CPU guard+tick", []string{"guard", "tick"}}, {"CPU nats", []string{"nats-server"}}},
		desc: "five `adsync serve SERVICE` processes and one nats-server (JetStream, file store)",
		api:  "`adsync serve api` beside the five services"}
}

// perServiceRSS reports whether each process is one service, which the
// peak RSS target (issue 19: every service < 150 MB) applies to.
func (l layout) perServiceRSS() bool { return !l.oneProcess }
