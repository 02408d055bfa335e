package broker

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
)

// boltStore is mochi's bolt storage hook with one fix: mochi v2.7.9's bolt
// hook does not store the packet id of inflight messages (its badger hook
// does), so after a restart a persistent session's queued QoS 1 messages come
// back with id 0, mochi refuses to resend them ("missing packet id") and
// disconnects the client at every reconnect. The id is also in the record's
// key, "IFM_<client>:<packet id>", so it is restored from there.
type boltStore struct {
	*bolt.Hook
}

func (s boltStore) StoredInflightMessages() ([]storage.Message, error) {
	msgs, err := s.Hook.StoredInflightMessages()
	if err != nil {
		return nil, err
	}
	out := msgs[:0]
	for _, m := range msgs {
		if m.PacketID == 0 {
			id, err := packetIDFromKey(m.ID)
			if err != nil {
				continue // unusable: resending it would disconnect the client forever
			}
			m.PacketID = id
		}
		out = append(out, m)
	}
	return out, nil
}

func packetIDFromKey(key string) (uint16, error) {
	i := strings.LastIndexByte(key, ':')
	if i < 0 {
		return 0, fmt.Errorf("inflight key %q has no packet id", key)
	}
	n, err := strconv.ParseUint(key[i+1:], 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("inflight key %q has no valid packet id", key)
	}
	return uint16(n), nil
}
