package demojob

// Users is the number of distinct users the generator draws from.
const Users = 10_000

// DefaultEvents is the number of events the demo generates by default.
const DefaultEvents = 20_000_000

// Event is one generated purchase. Amount is in cents; a refund or a
// zero-amount probe has Amount <= 0 and is filtered out.
type Event struct {
	User   int64
	Amount int64
}

// Spend is a user's running total: the sum of the amounts of Count events.
type Spend struct {
	User  int64
	Total int64
	Count int64
}

// MakeEvent derives event i from i alone (a splitmix64 hash), so a plain
// loop can regenerate exactly what the job's generator produced.
func MakeEvent(i int64) Event {
	z := uint64(i) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return Event{
		User:   int64(z % Users),
		Amount: int64((z>>32)%10_000) - 500, // about 5% are <= 0
	}
}

// Keep reports whether an event counts towards a user's total.
func Keep(e Event) bool { return e.Amount > 0 }

// ToSpend turns a kept event into a one-event Spend.
func ToSpend(e Event) Spend { return Spend{User: e.User, Total: e.Amount, Count: 1} }

// Add combines two Spends of the same user.
func Add(a, b Spend) Spend {
	return Spend{User: a.User, Total: a.Total + b.Total, Count: a.Count + b.Count}
}

// reference computes what the job should produce with a plain Go loop over
// the same events: every user's final Spend and the number of events kept.
func reference(events int64) (totals []Spend, kept int64) {
	totals = make([]Spend, Users)
	for i := range events {
		e := MakeEvent(i)
		if !Keep(e) {
			continue
		}
		s := &totals[e.User]
		*s = Add(*s, ToSpend(e))
		s.User = e.User
		kept++
	}
	return totals, kept
}
