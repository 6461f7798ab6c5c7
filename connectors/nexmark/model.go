package nexmark

import (
	"fmt"
	"time"
)

// Kind says which of the three record types an Event holds.
type Kind uint8

// The kinds of events.
const (
	KindPerson Kind = iota
	KindAuction
	KindBid
)

// String returns "person", "auction" or "bid".
func (k Kind) String() string {
	switch k {
	case KindPerson:
		return "person"
	case KindAuction:
		return "auction"
	case KindBid:
		return "bid"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Person is a new user of the auction site.
type Person struct {
	ID           int64
	Name         string
	EmailAddress string
	CreditCard   string
	City         string
	State        string
	DateTime     time.Time
	Extra        string
}

// Auction is an item put up for sale by the person Seller.
type Auction struct {
	ID          int64
	ItemName    string
	Description string
	InitialBid  int64 // cents
	Reserve     int64 // cents
	DateTime    time.Time
	Expires     time.Time
	Seller      int64 // a Person ID
	Category    int64
	Extra       string
}

// Bid is an offer of Price cents by the person Bidder on an Auction.
type Bid struct {
	Auction  int64 // an Auction ID
	Bidder   int64 // a Person ID
	Price    int64 // cents
	Channel  string
	URL      string
	DateTime time.Time
	Extra    string
}

// Event is one record of the Nexmark stream: a union of the three types.
// Only the field named by Kind is set; the others are zero.
type Event struct {
	Kind    Kind
	Person  Person
	Auction Auction
	Bid     Bid
}

// Time is the event time of the event: the DateTime of its record.
func (e *Event) Time() time.Time {
	switch e.Kind {
	case KindPerson:
		return e.Person.DateTime
	case KindAuction:
		return e.Auction.DateTime
	}
	return e.Bid.DateTime
}

// EventTime returns e.Time(); it fits timeapi watermark strategies.
func EventTime(e Event) time.Time { return e.Time() }
