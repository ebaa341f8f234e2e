// One root seed, named sub-seeds: every random decision of a run derives its own generator
// state from the run's --seed and a stable name, so one seed reproduces a run and two names
// never share a stream. The names in use:
//   "role/ID"          a role's own seed (RoleEnv::seed); the role derives further names from
//                      it ("retry-jitter")
//   "link/FROM->TO"    the fault proxy of a declared link ("link/FROM->TO#N" for the N-th
//                      fault declared on the same pair); FROM may be "*"
//   "plan"             the seeded plan: jittered event times, the swarm's picks (world/plan)
#pragma once

#include <cstdint>
#include <string_view>

namespace txlab {

// SplitMix64 (Steele, Lea, Flood 2014): a full-period mix of a 64-bit counter.
inline constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// The sub-seed of `name` under `root` (FNV-1a of the name, mixed with the root).
inline constexpr uint64_t derive_seed(uint64_t root, std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
  return splitmix64(root ^ splitmix64(h));
}

}  // namespace txlab
