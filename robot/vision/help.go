package vision

import "flag"

var flagHelp = flag.ErrHelp
