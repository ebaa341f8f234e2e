// A latency histogram with log-linear buckets (the idea of HdrHistogram, written here): values
// below 2·S are counted exactly, and each power of two above is split into S equal sub-buckets
// (S = 2^precision_bits). A value is reported as the middle of its bucket, so a percentile is
// within relative_error() = 1 / (2·S) of the true value (S = 128: 0.39 %). Memory is fixed by
// the largest value seen (at most kMaxUs, ~12.7 days in µs): about 4,500 counters for S = 128.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace txlab {

class LatencyHistogram {
 public:
  static constexpr int64_t kMaxUs = int64_t{1} << 40;  // larger values are counted as this

  explicit LatencyHistogram(int precision_bits = 7);

  void record(int64_t us, uint64_t times = 1);  // negative values count as 0
  // Adds another histogram's counts (of the same precision; otherwise its values re-bucketed).
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return total_; }
  int64_t min() const { return total_ ? min_ : 0; }
  int64_t max() const { return total_ ? max_ : 0; }
  double relative_error() const;
  // The value at quantile q in [0, 1]: the rank-th smallest, rank = rank_of(q, count()), as its
  // bucket's middle clamped to [min, max] (so q = 1 is the exact max); 0 when empty.
  int64_t percentile(double q) const;
  static uint64_t rank_of(double q, uint64_t n);

  // Every non-empty bucket in increasing order: f(lowest value, highest value, count).
  template <class F>
  void for_each_bucket(F&& f) const {
    for (size_t i = 0; i < counts_.size(); ++i)
      if (counts_[i]) f(low_of(i), high_of(i), counts_[i]);
  }

 private:
  size_t index_of(int64_t us) const;
  int64_t low_of(size_t index) const;
  int64_t high_of(size_t index) const;

  int bits_;
  std::vector<uint64_t> counts_;  // grows to the largest index used
  uint64_t total_ = 0;
  int64_t min_ = 0, max_ = 0;
};

}  // namespace txlab
