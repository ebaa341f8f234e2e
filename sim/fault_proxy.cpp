// FaultProxy on Boost.Asio: one io_context thread, a session per accepted connection.
#include "sim/fault_proxy.h"

#include "sim/asio_loopback.h"

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace txlab {

namespace asio = boost::asio;
using asio::ip::tcp;

struct FaultProxy::Impl : detail::AsioLoopback {
  std::string name;
  std::string upstream_host = "127.0.0.1";
  int upstream_port;
  FaultSpec spec;
  std::mt19937_64 rng;
  std::chrono::steady_clock::time_point started;
  mutable std::mutex mu;
  std::vector<FaultDecision> decisions;
  uint64_t connections = 0;

  std::function<double()> now_s;

  Impl(std::string n, int up, FaultSpec s, uint64_t seed, std::function<double()> now)
      : name(std::move(n)), upstream_port(up), spec(s), rng(seed), now_s(std::move(now)) {}

  double time_s() const {
    if (now_s) return now_s();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }

  FaultDecision decide() {
    std::lock_guard lock(mu);
    FaultDecision d;
    d.connection = ++connections;
    const bool active = spec.active_at(time_s());
    // Draw every number every time, so decisions depend only on the seed and the order.
    std::uniform_real_distribution<double> u(0, 1);
    const double r = u(rng);
    const int64_t jitter =
        spec.jitter_ms > 0 ? std::uniform_int_distribution<int64_t>(0, spec.jitter_ms)(rng) : 0;
    d.fault = "none";
    d.window_latency_ms = spec.latency_ms + jitter;
    if (active) {
      if (r < spec.down)
        d.fault = "down";
      else if (r < spec.down + spec.stall)
        d.fault = "stall";
      else if (r < spec.down + spec.stall + spec.reset)
        d.fault = "reset";
      d.latency_ms = spec.latency_ms + jitter;
      d.bandwidth_kbps = spec.bandwidth_kbps;
      d.slow_close_ms = spec.slow_close_ms;
      d.loss = spec.loss;
      d.loss_delay_ms = spec.loss_delay_ms;
    }
    d.loss_seed = rng();
    decisions.push_back(d);
    return d;
  }

  void accept() {
    // `this` outlives the io_context it owns; pending handlers die with it (no ownership cycle).
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket client) {
      if (ec) return;
      serve(std::move(client));
      accept();
    });
  }

  struct Session : std::enable_shared_from_this<Session> {
    tcp::socket client, upstream;
    FaultDecision d;
    asio::io_context& io;
    const Impl& owner;
    bool cut_done = false;
    std::mt19937_64 loss_rng;
    Session(tcp::socket c, asio::io_context& ctx, FaultDecision dec, const Impl& o)
        : client(std::move(c)), upstream(ctx), d(dec), io(ctx), owner(o), loss_rng(dec.loss_seed) {}

    // The chunk faults (latency, bandwidth, loss) of a windowed spec follow the window chunk
    // by chunk, so a slow period slows the connections already open too (pooled keep-alive
    // connections are the rule); without a window they are as decided at accept.
    FaultDecision chunk_faults() const {
      const FaultSpec& spec = owner.spec;
      if (spec.at_s <= 0 && spec.for_s <= 0) return d;
      FaultDecision now = d;
      const bool on = spec.active_at(owner.time_s());
      now.latency_ms = on ? d.window_latency_ms : 0;
      now.bandwidth_kbps = on ? spec.bandwidth_kbps : 0;
      now.loss = on ? spec.loss : 0;
      now.loss_delay_ms = spec.loss_delay_ms;
      return now;
    }

    void hard_close(tcp::socket& s) {
      boost::system::error_code ec;
      s.set_option(asio::socket_base::linger(true, 0), ec);  // RST, not FIN
      s.close(ec);
    }
    void close_both() {
      boost::system::error_code ec;
      client.close(ec);
      upstream.close(ec);
    }

    // Copies from one socket to the other, delaying each chunk by the decided latency.
    void pump(tcp::socket& from, tcp::socket& to, bool response) {
      auto buf = std::make_shared<std::array<char, 16384>>();
      from.async_read_some(asio::buffer(*buf), [self = shared_from_this(), buf, &from, &to,
                                                response](boost::system::error_code ec, size_t n) {
        if (ec) {
          // Slow close: upstream is done, the client sees its FIN only later.
          if (response && self->d.slow_close_ms > 0) {
            auto timer = std::make_shared<asio::steady_timer>(
                self->io, std::chrono::milliseconds(self->d.slow_close_ms));
            return timer->async_wait(
                [self, timer](boost::system::error_code) { self->close_both(); });
          }
          return self->close_both();
        }
        auto forward = [self, buf, n, &from, &to, response] {
          size_t len = n;
          const bool cut = response && self->d.fault == "reset" && !self->cut_done;
          if (cut) len = std::max<size_t>(1, n / 2);
          asio::async_write(
              to, asio::buffer(buf->data(), len),
              [self, buf, &from, &to, response, cut](boost::system::error_code ec2, size_t) {
                if (ec2) return self->close_both();
                if (cut) {
                  self->cut_done = true;
                  self->hard_close(self->client);
                  boost::system::error_code ignored;
                  self->upstream.close(ignored);
                  return;
                }
                self->pump(from, to, response);
              });
        };
        // Latency per chunk, plus the time the chunk takes at the capped bandwidth.
        const FaultDecision f = self->chunk_faults();
        int64_t delay_us = f.latency_ms * 1000;
        if (f.bandwidth_kbps > 0) delay_us += static_cast<int64_t>(n) * 8000 / f.bandwidth_kbps;
        // A lost segment costs a retransmission timeout (the proxy speaks TCP to both sides,
        // so loss shows up as delay, as it does to an application).
        if (f.loss > 0 && std::uniform_real_distribution<double>(0, 1)(self->loss_rng) < f.loss)
          delay_us += f.loss_delay_ms * 1000;
        if (delay_us > 0) {
          auto timer =
              std::make_shared<asio::steady_timer>(self->io, std::chrono::microseconds(delay_us));
          timer->async_wait([timer, forward](boost::system::error_code) { forward(); });
        } else {
          forward();
        }
      });
    }

    // Stall: read and discard whatever arrives, never answer (the handler owns the session,
    // so nothing outlives the io_context).
    std::array<char, 4096> sink{};
    void drain() {
      client.async_read_some(asio::buffer(sink),
                             [self = shared_from_this()](boost::system::error_code ec, size_t) {
                               if (!ec) self->drain();
                             });
    }

    void start(const std::string& upstream_host, int upstream_port) {
      if (d.fault == "down") return hard_close(client);
      if (d.fault == "stall") return drain();
      upstream.async_connect(tcp::endpoint(asio::ip::make_address(upstream_host),
                                           static_cast<unsigned short>(upstream_port)),
                             [self = shared_from_this()](boost::system::error_code ec) {
                               if (ec) return self->hard_close(self->client);
                               boost::system::error_code ignored;
                               self->client.set_option(tcp::no_delay(true), ignored);
                               self->upstream.set_option(tcp::no_delay(true), ignored);
                               self->pump(self->client, self->upstream, false);
                               self->pump(self->upstream, self->client, true);
                             });
    }
  };

  void serve(tcp::socket client) {
    std::make_shared<Session>(std::move(client), io, decide(), *this)
        ->start(upstream_host, upstream_port);
  }
};

FaultProxy::FaultProxy(std::string name, int upstream_port, FaultSpec spec, uint64_t seed,
                       std::function<double()> now_s)
    : impl_(std::make_unique<Impl>(std::move(name), upstream_port, spec, seed, std::move(now_s))) {}

FaultProxy::~FaultProxy() { stop(); }

int FaultProxy::start() {
  auto& i = *impl_;
  i.listen();
  i.started = std::chrono::steady_clock::now();
  i.accept();
  i.run();
  return i.port;
}

void FaultProxy::stop() {
  if (impl_) impl_->shutdown();
}

void FaultProxy::set_hosts(std::string listen_host, std::string upstream_host) {
  impl_->host = std::move(listen_host);
  impl_->upstream_host = std::move(upstream_host);
}

std::string FaultProxy::base_url() const {
  return "http://" + impl_->host + ":" + std::to_string(impl_->port);
}
int FaultProxy::port() const { return impl_->port; }
const std::string& FaultProxy::name() const { return impl_->name; }

std::vector<FaultDecision> FaultProxy::decisions() const {
  std::lock_guard lock(impl_->mu);
  return impl_->decisions;
}

}  // namespace txlab
