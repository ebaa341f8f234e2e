// HttpClientPool: keep-alive client reuse per target, mapped transport errors.
#include "sim/http/client_pool.h"

#include <httplib.h>

#include <cctype>
#include <chrono>

#include "sim/http/form.h"

namespace txlab::http {

std::string_view to_string(TransportError e) {
  switch (e) {
    case TransportError::kNone:
      return "none";
    case TransportError::kConnect:
      return "connect";
    case TransportError::kTimeout:
      return "timeout";
    case TransportError::kRead:
      return "read";
    case TransportError::kWrite:
      return "write";
    case TransportError::kOther:
      return "other";
  }
  return "other";
}

std::string InboundResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < k.size() && eq; ++i)
      eq = std::tolower(static_cast<unsigned char>(k[i])) ==
           std::tolower(static_cast<unsigned char>(name[i]));
    if (eq) return v;
  }
  return {};
}

OutboundRequest form_post(std::string path,
                          const std::vector<std::pair<std::string, std::string>>& form,
                          const std::string& client_id, const std::string& client_secret) {
  OutboundRequest req;
  req.method = "POST";
  req.path = std::move(path);
  req.content_type = "application/x-www-form-urlencoded";
  req.body = encode_form(form);
  if (!client_id.empty())
    req.headers.emplace_back("Authorization", basic_authorization(client_id, client_secret));
  return req;
}

HttpClientPool::HttpClientPool(ClientOptions options) : options_(options) {}
HttpClientPool::~HttpClientPool() = default;

namespace {
int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::unique_ptr<httplib::Client> HttpClientPool::checkout(const std::string& base_url) {
  std::vector<std::unique_ptr<httplib::Client>> expired;
  std::unique_ptr<httplib::Client> reuse;
  {
    std::lock_guard lock(mu_);
    auto& idle = idle_[base_url];
    const int64_t now = now_us();
    while (!idle.empty() && !reuse) {
      Idle c = std::move(idle.back());  // the most recently used first
      idle.pop_back();
      if (options_.max_idle_ms > 0 && now - c.since_us > int64_t{options_.max_idle_ms} * 1000)
        expired.push_back(std::move(c.client));
      else
        reuse = std::move(c.client);
    }
  }
  for (auto& c : expired) c->stop();
  if (reuse) return reuse;
  auto c = std::make_unique<httplib::Client>(base_url);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(options_.connect_timeout_ms / 1000,
                            (options_.connect_timeout_ms % 1000) * 1000);
  c->set_read_timeout(options_.read_timeout_ms / 1000, (options_.read_timeout_ms % 1000) * 1000);
  c->set_write_timeout(options_.read_timeout_ms / 1000, (options_.read_timeout_ms % 1000) * 1000);
  return c;
}

void HttpClientPool::checkin(const std::string& base_url, std::unique_ptr<httplib::Client> client) {
  std::lock_guard lock(mu_);
  auto& idle = idle_[base_url];
  if (idle.size() < options_.max_idle_per_host) idle.push_back({std::move(client), now_us()});
}

void HttpClientPool::clear() {
  std::map<std::string, std::vector<Idle>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
  }
  for (auto& [url, clients] : idle)
    for (auto& c : clients) c.client->stop();
}

InboundResponse HttpClientPool::send(const std::string& base_url, const OutboundRequest& request) {
  auto client = checkout(base_url);
  const int timeout_ms = request.timeout_ms > 0 ? request.timeout_ms : options_.read_timeout_ms;
  client->set_read_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  client->set_write_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  const auto started = std::chrono::steady_clock::now();
  httplib::Headers headers;
  for (const auto& [k, v] : request.headers) headers.emplace(k, v);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  const std::string ct =
      request.content_type.empty() ? "application/octet-stream" : request.content_type;
  if (request.method == "GET") {
    res = client->Get(request.path, headers);
  } else if (request.method == "POST") {
    res = client->Post(request.path, headers, request.body, ct);
  } else if (request.method == "PUT") {
    res = client->Put(request.path, headers, request.body, ct);
  } else if (request.method == "DELETE") {
    res = client->Delete(request.path, headers, request.body, ct);
  } else {
    InboundResponse out;
    out.error = TransportError::kOther;
    return out;
  }
  InboundResponse out;
  if (!res) {
    switch (res.error()) {
      case httplib::Error::Connection:
        out.error = TransportError::kConnect;
        break;
      case httplib::Error::Read: {
        // httplib reports a read timeout as a read error: tell them apart by the time spent.
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        out.error = ms >= timeout_ms * 9 / 10 ? TransportError::kTimeout : TransportError::kRead;
        break;
      }
      case httplib::Error::Write:
        out.error = TransportError::kWrite;
        break;
      case httplib::Error::ConnectionTimeout:
        out.error = TransportError::kTimeout;
        break;
      default:
        out.error = TransportError::kOther;
        break;
    }
    // A failed client may hold a broken connection: drop it rather than pool it.
    return out;
  }
  out.status = res->status;
  out.body = std::move(res->body);
  for (const auto& [k, v] : res->headers) out.headers.emplace_back(k, v);
  checkin(base_url, std::move(client));
  return out;
}

}  // namespace txlab::http
