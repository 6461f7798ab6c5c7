package nexmark_test

import (
	"fmt"

	"github.com/weirstream/weir/connectors/nexmark"
)

func ExampleSource_Event() {
	src, err := nexmark.NewSource(nexmark.Options{Seed: 42, Events: 1000})
	if err != nil {
		panic(err)
	}
	for n := range int64(6) {
		e := src.Event(n)
		switch e.Kind {
		case nexmark.KindPerson:
			fmt.Println(n, e.Kind, e.Person.ID, e.Person.City)
		case nexmark.KindAuction:
			fmt.Println(n, e.Kind, e.Auction.ID, "seller", e.Auction.Seller)
		case nexmark.KindBid:
			fmt.Println(n, e.Kind, "on", e.Bid.Auction, "by", e.Bid.Bidder, "at", e.Time().Format("15:04:05.000"))
		}
	}
	// Output:
	// 0 person 1000 Kent
	// 1 auction 1000 seller 1000
	// 2 auction 1001 seller 1000
	// 3 auction 1002 seller 1000
	// 4 bid on 1001 by 1001 at 00:00:00.000
	// 5 bid on 1000 by 1007 at 00:00:00.000
}
