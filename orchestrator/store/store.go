package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"collaborate/orchestrator/mission"
	"collaborate/topics"
)

var (
	bucketMeta     = []byte("meta")
	bucketMissions = []byte("missions")
	keyEpoch       = []byte("epoch")
	keyMap         = []byte("map")
	keyLatches     = []byte("latches")
)

// Latches are the operator's stops and holds. They survive a restart of the
// orchestrator: nothing resumes a robot that an operator stopped.
type Latches struct {
	FleetStopped bool            `json:"fleet_stopped,omitempty"`
	Held         map[string]bool `json:"held,omitempty"`    // operator hold, by robot
	Stopped      map[string]bool `json:"stopped,omitempty"` // operator stop, by robot
}

// Store is the bbolt-backed state.
type Store struct {
	db *bolt.DB
}

// Open opens or creates the store file. A second process on the same file
// waits up to a second for the lock, then fails.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketMissions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: create buckets: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func getUint(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(b *bolt.Bucket, k []byte, v uint64) error {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	return b.Put(k, buf[:])
}

// NextEpoch increments and returns the epoch counter: called once per
// orchestrator start, so directives of this run beat retained older ones.
func (s *Store) NextEpoch() (uint64, error) {
	var e uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		e = getUint(b, keyEpoch) + 1
		return putUint(b, keyEpoch, e)
	})
	if err != nil {
		return 0, fmt.Errorf("store: next epoch: %w", err)
	}
	return e, nil
}

// SaveMission writes one robot's mission state.
func (s *Store) SaveMission(m *mission.State) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("store: save mission %s: %w", m.Robot, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMissions).Put([]byte(m.Robot), v)
	})
	if err != nil {
		return fmt.Errorf("store: save mission %s: %w", m.Robot, err)
	}
	return nil
}

// Missions reads every mission state, by robot.
func (s *Store) Missions() (map[string]*mission.State, error) {
	out := map[string]*mission.State{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMissions).ForEach(func(k, v []byte) error {
			var m mission.State
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("mission %s: %w", k, err)
			}
			out[string(k)] = &m
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: read missions: %w", err)
	}
	return out, nil
}

// SaveMap writes the marker map.
func (s *Store) SaveMap(m *topics.FleetMap) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("store: save map: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyMap, v) })
	if err != nil {
		return fmt.Errorf("store: save map: %w", err)
	}
	return nil
}

// SaveLatches writes the operator's latches.
func (s *Store) SaveLatches(l Latches) error {
	v, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("store: save latches: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyLatches, v) })
	if err != nil {
		return fmt.Errorf("store: save latches: %w", err)
	}
	return nil
}

// Latches reads the operator's latches; none saved is no latch.
func (s *Store) Latches() (Latches, error) {
	var l Latches
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyLatches)
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &l)
	})
	if err != nil {
		return Latches{}, fmt.Errorf("store: read latches: %w", err)
	}
	return l, nil
}

// ErrNoMap is returned by Map when no map was saved.
var ErrNoMap = errors.New("no map saved")

// Map reads the marker map.
func (s *Store) Map() (*topics.FleetMap, error) {
	var m *topics.FleetMap
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyMap)
		if v == nil {
			return ErrNoMap
		}
		m = &topics.FleetMap{}
		return json.Unmarshal(v, m)
	})
	if err != nil {
		return nil, fmt.Errorf("store: read map: %w", err)
	}
	return m, nil
}
