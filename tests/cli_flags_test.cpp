// The CLI's flag table (cli/flags.h): every flag declared once and applying somewhere, found by
// name or alias, its value parsed and stored as the command line and a config file would, and
// the usage made from it.
#include "cli/flags.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace txlab::cli {
namespace {

TEST(CliFlagsTest, EveryFlagIsDeclaredOnceAndAppliesToSomeCommand) {
  std::set<std::string> names;
  for (const auto& f : flags()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_EQ(std::string(f.name).rfind("--", 0), 0u) << f.name;
    ASSERT_FALSE(f.uses.empty()) << f.name;
    CommandSet seen = 0;
    for (const auto& u : f.uses) {
      EXPECT_NE(u.commands, 0u) << f.name;
      EXPECT_EQ(seen & u.commands, 0u) << f.name << " has two helps for one command";
      seen |= u.commands;
      EXPECT_NE(std::string(u.help), "") << f.name;
      EXPECT_EQ(*u.metavar == '\0', !f.takes_value()) << f.name;
    }
  }
}

TEST(CliFlagsTest, FindFlagByNameOrAliasOnly) {
  ASSERT_NE(find_flag("--quiet"), nullptr);
  EXPECT_EQ(find_flag("-q"), find_flag("--quiet"));
  EXPECT_EQ(find_flag("--nope"), nullptr);
  EXPECT_EQ(find_flag("quiet"), nullptr);
  ASSERT_NE(find_command("conform"), nullptr);
  EXPECT_EQ(find_command("bogus"), nullptr);
}

TEST(CliFlagsTest, ApplyFlagStoresEachKindOfValue) {
  Args a;
  EXPECT_FALSE(apply_flag(*find_flag("--seed"), "42", a));
  EXPECT_EQ(a.seed, 42u);
  EXPECT_FALSE(apply_flag(*find_flag("--json"), "-", a));
  EXPECT_EQ(a.json_out, "-");
  EXPECT_FALSE(apply_flag(*find_flag("--peer"), "as=http://a", a));
  EXPECT_FALSE(apply_flag(*find_flag("--peer"), "gw=http://g", a));
  EXPECT_EQ(a.peers.size(), 2u);
  EXPECT_FALSE(apply_flag(*find_flag("--duration"), "7", a));
  EXPECT_EQ(a.duration_s, 7.0);
  EXPECT_FALSE(apply_flag(*find_flag("--strict"), "", a));
  EXPECT_TRUE(a.strict);
  EXPECT_FALSE(apply_flag(*find_flag("--strict"), "false", a));
  EXPECT_FALSE(a.strict);
  EXPECT_FALSE(apply_flag(*find_flag("--admin"), "0", a));
  EXPECT_EQ(a.admin_port, 0);
}

TEST(CliFlagsTest, ApplyFlagNamesTheFlagInItsError) {
  Args a;
  EXPECT_EQ(apply_flag(*find_flag("--calls"), "abc", a).value_or(""),
            "--calls needs a non-negative integer, got 'abc'");
  EXPECT_EQ(apply_flag(*find_flag("--calls"), "-1", a).value_or(""),
            "--calls needs a non-negative integer, got '-1'");
  EXPECT_EQ(apply_flag(*find_flag("--admin"), "70000", a).value_or(""),
            "--admin needs a port from 0 to 65535");
  EXPECT_EQ(apply_flag(*find_flag("--serve-issuer"), "0", a).value_or(""),
            "--serve-issuer needs a port from 1 to 65535");
  EXPECT_TRUE(apply_flag(*find_flag("--strict"), "maybe", a).has_value());
  EXPECT_EQ(a.calls, 0);
  EXPECT_EQ(a.admin_port, -1);
}

// What a `conform --config FILE` would do with a key: the flag of that name, its value applied.
TEST(CliFlagsTest, AConfigKeyMapsToItsFlag) {
  Args a;
  const Flag* f = find_flag("--" + std::string("timeout-ms"));
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->use_for(kConform), nullptr);
  EXPECT_EQ(f->use_for(kRun), nullptr);
  EXPECT_FALSE(apply_flag(*f, "250", a));
  EXPECT_EQ(a.timeout_ms, 250);
}

TEST(CliFlagsTest, EachCommandsUsageListsExactlyItsFlags) {
  for (const auto& c : commands()) {
    const std::string usage = render_command_usage(c);
    EXPECT_EQ(usage.rfind(std::string("  txlab ") + c.name, 0), 0u) << usage;
    for (const auto& f : flags()) {
      const bool listed = usage.find("\n        " + std::string(f.name) + " ") != std::string::npos;
      EXPECT_EQ(listed, f.use_for(c.bit) != nullptr) << c.name << " " << f.name;
    }
    EXPECT_NE(render_usage().find(usage), std::string::npos) << c.name;
  }
}

}  // namespace
}  // namespace txlab::cli
