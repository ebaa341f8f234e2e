// Log-linear latency buckets (see latency_histogram.h).
#include "sim/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace txlab {

LatencyHistogram::LatencyHistogram(int precision_bits) : bits_(std::clamp(precision_bits, 1, 16)) {}

double LatencyHistogram::relative_error() const { return 1.0 / (2.0 * (1 << bits_)); }

size_t LatencyHistogram::index_of(int64_t us) const {
  const int64_t sub = int64_t{1} << bits_;
  if (us < 2 * sub) return static_cast<size_t>(us);
  const int msb = 63 - __builtin_clzll(static_cast<uint64_t>(us));
  const int shift = msb - bits_;         // >= 1
  const int64_t mantissa = us >> shift;  // in [sub, 2·sub)
  return static_cast<size_t>(2 * sub + (shift - 1) * sub + (mantissa - sub));
}

int64_t LatencyHistogram::low_of(size_t index) const {
  const int64_t sub = int64_t{1} << bits_;
  const auto i = static_cast<int64_t>(index);
  if (i < 2 * sub) return i;
  const int64_t k = i - 2 * sub;
  const int64_t shift = k / sub + 1;
  return (sub + k % sub) << shift;
}

int64_t LatencyHistogram::high_of(size_t index) const {
  const int64_t sub = int64_t{1} << bits_;
  const auto i = static_cast<int64_t>(index);
  if (i < 2 * sub) return i;
  const int64_t shift = (i - 2 * sub) / sub + 1;
  return low_of(index) + (int64_t{1} << shift) - 1;
}

void LatencyHistogram::record(int64_t us, uint64_t times) {
  if (times == 0) return;
  us = std::clamp<int64_t>(us, 0, kMaxUs);
  const size_t i = index_of(us);
  if (i >= counts_.size()) counts_.resize(i + 1, 0);
  counts_[i] += times;
  min_ = total_ ? std::min(min_, us) : us;
  max_ = total_ ? std::max(max_, us) : us;
  total_ += times;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (!other.total_) return;
  if (other.bits_ == bits_) {
    if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
    for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
    min_ = total_ ? std::min(min_, other.min_) : other.min_;
    max_ = total_ ? std::max(max_, other.max_) : other.max_;
    total_ += other.total_;
    return;
  }
  const int64_t lo = other.min_, hi = other.max_;
  other.for_each_bucket(
      [&](int64_t l, int64_t h, uint64_t n) { record(std::clamp(l + (h - l) / 2, lo, hi), n); });
  min_ = std::min(min_, lo);
  max_ = std::max(max_, hi);
}

uint64_t LatencyHistogram::rank_of(double q, uint64_t n) {
  if (n == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // q·n rounded up, with a margin for binary fractions (0.99 · 100 must be rank 99, not 100).
  const auto r = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n) - 1e-9));
  return std::clamp<uint64_t>(r, 1, n);
}

int64_t LatencyHistogram::percentile(double q) const {
  if (!total_) return 0;
  const uint64_t rank = rank_of(q, total_);
  if (rank == total_) return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const int64_t lo = low_of(i), hi = high_of(i);
      return std::clamp(lo + (hi - lo) / 2, min_, max_);
    }
  }
  return max_;
}

}  // namespace txlab
