// One way to name enum values: a constexpr table of rows {value, name[, description]} per enum,
// and generic lookups over it. The strings are wire and report text (JSON, JUnit, CLI output), so
// a table is the single place each one is spelled.
//
//   constexpr EnumName<Alg> kAlgNames[] = {{Alg::kES256, "ES256"}, ...};
//   static_assert(covers_in_order(kAlgNames, Alg::kNone));  // contiguous enums only
//   std::string_view to_string(Alg a) { return name_of(kAlgNames, a, "?"); }
//   std::optional<Alg> alg_from_string(std::string_view s) { return value_of(kAlgNames, s); }
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>

namespace txlab {

template <typename E>
struct EnumName {
  static_assert(std::is_enum_v<E>);
  E value;
  std::string_view name;
  std::string_view description = {};
};

// True when row i holds enumerator i and the table ends at `last`: for an enum whose values run
// 0, 1, ..., last, every enumerator has exactly one row, in declaration order. (Pass the enum's
// last enumerator; a value appended after it must be added here too.)
template <typename E, std::size_t N>
constexpr bool covers_in_order(const EnumName<E> (&table)[N], E last) {
  using U = std::underlying_type_t<E>;
  for (std::size_t i = 0; i < N; ++i)
    if (static_cast<U>(table[i].value) != static_cast<U>(i)) return false;
  return static_cast<U>(last) == static_cast<U>(N - 1);
}

template <typename E, std::size_t N>
constexpr const EnumName<E>* row_of(const EnumName<E> (&table)[N], E value) {
  for (const auto& row : table)
    if (row.value == value) return &row;
  return nullptr;
}

// The value's name, or `fallback` when the table has no row for it (a value cast from an int).
template <typename E, std::size_t N>
constexpr std::string_view name_of(const EnumName<E> (&table)[N], E value,
                                   std::string_view fallback = "unknown") {
  const EnumName<E>* row = row_of(table, value);
  return row ? row->name : fallback;
}

// The value's description, or `fallback` when the table has no row for it.
template <typename E, std::size_t N>
constexpr std::string_view description_of(const EnumName<E> (&table)[N], E value,
                                          std::string_view fallback = "unknown") {
  const EnumName<E>* row = row_of(table, value);
  return row ? row->description : fallback;
}

// The value named `name` (exact, case-sensitive match), or nullopt.
template <typename E, std::size_t N>
constexpr std::optional<E> value_of(const EnumName<E> (&table)[N], std::string_view name) {
  for (const auto& row : table)
    if (row.name == name) return row.value;
  return std::nullopt;
}

}  // namespace txlab
