// Trace storage and the thread-local current call.
#include "sim/trace.h"

#include <algorithm>

namespace txlab {
namespace {
thread_local std::string g_current_call;
}

void Trace::add_hop(Hop hop) {
  if (!enabled_.load()) return;
  std::lock_guard lock(mu_);
  hops_.push_back(std::move(hop));
  while (hops_.size() > max_hops_) {
    hops_.pop_front();
    dropped_hops_.fetch_add(1);
  }
}

void Trace::add_token(PresentedToken token) {
  if (!enabled_.load()) return;
  std::lock_guard lock(mu_);
  tokens_.push_back(std::move(token));
  while (tokens_.size() > max_tokens_) {
    tokens_.pop_front();
    dropped_tokens_.fetch_add(1);
  }
}

void Trace::set_limits(size_t max_hops, size_t max_tokens) {
  std::lock_guard lock(mu_);
  max_hops_ = max_hops ? max_hops : kMaxHops;
  max_tokens_ = max_tokens ? max_tokens : kMaxTokens;
}

size_t Trace::hop_count() const {
  std::lock_guard lock(mu_);
  return hops_.size();
}

std::vector<Hop> Trace::hops(const std::string& call) const {
  std::vector<Hop> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& h : hops_)
      if (h.call == call) out.push_back(h);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Hop& a, const Hop& b) { return a.start_us < b.start_us; });
  return out;
}

std::vector<PresentedToken> Trace::tokens(const std::string& call) const {
  std::vector<PresentedToken> out;
  std::lock_guard lock(mu_);
  for (const auto& t : tokens_) {
    if (t.call != call) continue;
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const PresentedToken& o) { return o.token == t.token; });
    if (!seen) out.push_back(t);
  }
  return out;
}

void Trace::clear() {
  std::lock_guard lock(mu_);
  hops_.clear();
  tokens_.clear();
}

CallScope::CallScope(std::string call) : previous_(std::move(g_current_call)) {
  g_current_call = std::move(call);
}
CallScope::~CallScope() { g_current_call = std::move(previous_); }
const std::string& CallScope::current() { return g_current_call; }

}  // namespace txlab
