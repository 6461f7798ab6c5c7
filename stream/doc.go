// Package stream is weir's user API: a typed, fluent DataStream API that
// builds a job graph.
//
//	job := stream.NewJob("hot-items")
//	counts := stream.FromSlice(job, "bids", bids).
//		WithWatermarks(timeapi.BoundedOutOfOrder(bidTime, 4*time.Second)).
//		Filter(func(b Bid) bool { return b.Price > 100 }).
//		KeyBy(func(b Bid) int64 { return b.Auction }).
//		Reduce(func(a, b Bid) Bid { a.Price += b.Price; return a })
//	counts.SinkTo(sink)
//	err := runtime.Run(ctx, job, runtime.Parallelism(2))
//
// A DataStream[T] is a stream of records of type T, each with the event
// time its watermark strategy extracted. KeyBy partitions a stream into a
// KeyedStream[K, T]: records with equal keys meet in one subtask, in the
// order their source split produced them, where keyed operators (Reduce,
// Process) keep keyed state and timers.
//
// Building never fails half-way: mistakes (a nil function, a stream of
// another job, a job without a sink) are collected and returned by
// Job.Graph, which runtime.Run calls first.
package stream
