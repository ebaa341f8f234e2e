// Role: server wiring shared by every actor.
#include "actors/role.h"

#include <httplib.h>

namespace txlab {

Role::Role(RoleEnv env) : env_(std::move(env)), outbound_(env_.id, *env_.pool, *env_.trace) {}
Role::~Role() { server_.stop(); }

Role::Handler Role::in_call(Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    CallScope scope(req.get_header_value(kCallHeader));
    handler(req, res);
  };
}

void Role::on_get(const std::string& pattern, Handler handler) {
  server_.routes().Get(pattern, in_call(std::move(handler)));
}
void Role::on_post(const std::string& pattern, Handler handler) {
  server_.routes().Post(pattern, in_call(std::move(handler)));
}
void Role::on_any(const std::string& pattern, Handler handler) {
  auto h = in_call(std::move(handler));
  server_.routes().Get(pattern, h);
  server_.routes().Post(pattern, h);
  server_.routes().Put(pattern, h);
  server_.routes().Delete(pattern, h);
}

void reply_json(httplib::Response& res, int status, const std::string& json_body) {
  res.status = status;
  res.set_content(json_body, "application/json");
}

}  // namespace txlab
