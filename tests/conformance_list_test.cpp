// The suite's list as data: every case's level is the keyword of the sentence it quotes, ids
// are stable and sectioned, the requirements inventory names real cases and covers every server
// case, and every subject-slot family also runs on the actor slot.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "conformance/requirements.h"
#include "conformance/suite.h"
#include "test_support.h"

using namespace txlab;
using namespace txlab::conformance;

// The printed level is the keyword of the quoted sentence: no MUST label without MUST/REQUIRED/
// SHALL, no SHOULD label without SHOULD/RECOMMENDED, no MAY label without MAY/OPTIONAL, and a
// case resting on no keyword says NONE.
TEST(ConformanceListTest, LevelIsTheKeywordOfTheQuotedRequirement) {
  auto has = [](const std::string& text, std::initializer_list<const char*> words) {
    for (const char* w : words)
      if (text.find(w) != std::string::npos) return true;
    return false;
  };
  for (const auto& c : all_cases()) {
    const std::string& t = c.info.requirement;
    const bool must = has(t, {"MUST", "REQUIRED", "SHALL"});
    const bool should = has(t, {"SHOULD", "RECOMMENDED"});
    const bool may = has(t, {"MAY", "OPTIONAL"});
    switch (c.info.level) {
      case Level::kMust:
        EXPECT_TRUE(must) << c.info.id << " is MUST but quotes: " << t;
        break;
      case Level::kNone:
        EXPECT_FALSE(must || should) << c.info.id << " is NONE but quotes a keyword: " << t;
        break;
      case Level::kShould:
        EXPECT_TRUE(should) << c.info.id << " is SHOULD but quotes: " << t;
        break;
      case Level::kMay:
        EXPECT_TRUE(may) << c.info.id << " is MAY but quotes: " << t;
        break;
    }
  }
}

TEST(ConformanceListTest, EveryCaseHasAStableSectionedIdAndQuotedRequirement) {
  std::set<std::string> ids;
  for (const auto& c : all_cases()) {
    EXPECT_TRUE(ids.insert(c.info.id).second) << "duplicate id " << c.info.id;
    EXPECT_TRUE(c.info.id.rfind("rfc", 0) == 0) << c.info.id;
    EXPECT_EQ(std::count(c.info.id.begin(), c.info.id.end(), '/'), 2) << c.info.id;
    EXPECT_FALSE(c.info.requirement.empty()) << c.info.id;
    EXPECT_FALSE(c.info.section.empty()) << c.info.id;
  }
  EXPECT_GE(all_cases().size(), 120u);
  EXPECT_NE(render_list().find("rfc8693/2.2.2/unknown-audience-invalid-target"), std::string::npos);
  // --list honours --only; a filter that selects nothing is detectable (a usage error).
  EXPECT_EQ(render_list("rfc7518/3.6/").find("rfc8693/2.2.2/unknown-audience-invalid-target"),
            std::string::npos);
  EXPECT_NE(render_list("rfc7518/3.6/").find("rfc7518/3.6/subject-access-token-alg-none"),
            std::string::npos);
  EXPECT_EQ(count_selected("rfc9999/"), 0u);
  EXPECT_EQ(count_selected(""), all_cases().size());
}

// The requirements inventory names real cases, one id per sentence, BCP 14 keywords only; every
// case that rests on a MUST or SHOULD binding the server tests some sentence of it.
TEST(RequirementsInventoryTest, NamesRealCasesAndCoversEveryServerCase) {
  std::set<std::string> ids, case_ids, covered;
  for (const auto& c : all_cases()) case_ids.insert(c.info.id);
  for (const auto& r : requirements()) {
    EXPECT_TRUE(ids.insert(r.id).second) << "duplicate requirement id " << r.id;
    EXPECT_TRUE(r.keyword == "MUST" || r.keyword == "SHOULD") << r.id << ": " << r.keyword;
    EXPECT_FALSE(r.text.empty()) << r.id;
    EXPECT_TRUE(r.untestable.empty() || r.cases.empty())
        << r.id << " is tested by cases yet called untestable";
    for (const auto& c : r.cases) {
      EXPECT_TRUE(case_ids.count(c)) << r.id << " names an unknown case " << c;
      covered.insert(c);
    }
  }
  for (const auto& c : all_cases()) {
    if (c.info.binds != Binds::kServer ||
        (c.info.level != Level::kMust && c.info.level != Level::kShould))
      continue;
    EXPECT_TRUE(covered.count(c.info.id))
        << c.info.id << " rests on a " << to_string(c.info.level)
        << " binding the server, but no sentence of the inventory lists it";
  }
  const Coverage cov = coverage();
  EXPECT_EQ(cov.total, requirements().size());
  EXPECT_EQ(cov.tested + cov.untestable + cov.backlog(), cov.total);
  EXPECT_GT(cov.tested, cov.total / 2);
  EXPECT_NE(render_requirements().find("coverage: "), std::string::npos);
}

// Every probe family that runs on the subject slot runs on the actor slot too (same token types,
// same shapes); only the audience rules are the subject token's alone (RFC 7519 §4.1.3: the AS
// is the subject token's audience; an actor token is presented by its holder for itself).
TEST(ConformanceListTest, EverySubjectSlotFamilyRunsOnTheActorSlot) {
  std::set<std::string> ids;
  for (const auto& c : all_cases()) ids.insert(c.info.id);
  const std::set<std::string> subject_only = {"wrong-audience", "aud-near-miss"};
  size_t families = 0;
  for (const auto& id : ids) {
    for (const std::string type : {"access-token-", "jwt-"}) {
      const std::string marker = "/subject-" + type;
      const size_t at = id.find(marker);
      if (at == std::string::npos) continue;
      const std::string slug = id.substr(at + marker.size());
      if (subject_only.count(slug)) continue;
      ++families;
      const std::string actor = id.substr(0, at) + "/actor-" + type + slug;
      EXPECT_TRUE(ids.count(actor)) << id << " has no actor-slot twin " << actor;
      if (ids.count(actor)) {
        const Case* a = nullptr;
        for (const auto& c : all_cases())
          if (c.info.id == actor) a = &c;
        // An actor-slot case is judged only when the target validates actor tokens at all.
        EXPECT_FALSE(a->info.depends_on.empty()) << actor;
      }
    }
  }
  EXPECT_GT(families, 60u);
}
