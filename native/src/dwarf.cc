// shmscope_dwarf: the types of a program's debug information (DWARF 4 and 5), read with elfutils'
// libdw and libdwfl (which find separate debug files by build-id under /usr/lib/debug, split DWARF
// .dwo files, and debuginfod when DEBUGINFOD_URLS is set).
//
// A separate addon from shmscope.node: it links libdw (optional at build time) and only the CLI's
// `import` loads it, in its own process, never the extension host. It streams the units: one walk
// indexes the names of the type definitions (strings only), then only the types asked for and what
// they use are described, as JSON text that JS parses once (a property set through N-API for each
// of a million fields costs more than reading the DWARF). Every walk is bounded (depth, sibling
// order, counts), so corrupt or hostile DWARF ends with an error, not a hang.
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr int kMaxDepth = 64;                 // nesting of namespaces/classes, and of type chains
constexpr size_t kMaxTypes = 1u << 20;         // aggregates and enums described in one import
constexpr size_t kMaxChildren = 1u << 20;      // members or enumerators of one type
constexpr uint64_t kMaxDies = uint64_t{1} << 32;  // DIEs indexed in one file
constexpr uint64_t kMaxCount = uint64_t{1} << 40;  // elements of one array dimension

using Key = std::pair<const Dwarf*, Dwarf_Off>;

struct KeyHash {
  size_t operator()(const Key& k) const { return std::hash<const void*>()(k.first) ^ (std::hash<Dwarf_Off>()(k.second) * 31); }
};

Key KeyOf(Dwarf_Die* die) { return {dwarf_cu_getdwarf(die->cu), dwarf_dieoffset(die)}; }

struct Fail {
  std::string message;
};

bool Flag(Dwarf_Die* die, unsigned attr) {
  Dwarf_Attribute a;
  bool v = false;
  return dwarf_attr_integrate(die, attr, &a) != nullptr && dwarf_formflag(&a, &v) == 0 && v;
}

bool Udata(Dwarf_Die* die, unsigned attr, Dwarf_Word* out) {
  Dwarf_Attribute a;
  return dwarf_attr_integrate(die, attr, &a) != nullptr && dwarf_formudata(&a, out) == 0;
}

bool TypeOf(Dwarf_Die* die, Dwarf_Die* out) {
  Dwarf_Attribute a;
  return dwarf_attr_integrate(die, DW_AT_type, &a) != nullptr && dwarf_formref_die(&a, out) != nullptr;
}

std::string Name(Dwarf_Die* die) {
  const char* n = dwarf_diename(die);
  return n ? n : "";
}

// JSON text, written in order: a value after a key or a comma as needed.
class Json {
 public:
  std::string s;
  void Open(char c) {
    Sep();
    s += c;
    comma_ = false;
  }
  void Close(char c) {
    s += c;
    comma_ = true;
  }
  void Key(const char* k) {
    Sep();
    s += '"';
    s += k;
    s += "\":";
    comma_ = false;
  }
  void Str(const std::string& v) {
    Sep();
    s += '"';
    for (unsigned char c : v) {
      if (c == '"' || c == '\\') {
        s += '\\';
        s += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        snprintf(buf, sizeof buf, "\\u%04x", c);
        s += buf;
      } else {
        s += static_cast<char>(c);
      }
    }
    s += '"';
    comma_ = true;
  }
  void Num(double v) {
    Sep();
    char buf[32];
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
      snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    } else {
      snprintf(buf, sizeof buf, "%.17g", std::isfinite(v) ? v : 0.0);
    }
    s += buf;
    comma_ = true;
  }
  void Bool(bool v) {
    Sep();
    s += v ? "true" : "false";
    comma_ = true;
  }
  // A key and its value.
  void Str(const char* k, const std::string& v) {
    Key(k);
    Str(v);
  }
  void Num(const char* k, double v) {
    Key(k);
    Num(v);
  }
  void Bool(const char* k, bool v) {
    Key(k);
    Bool(v);
  }

 private:
  void Sep() {
    if (comma_) s += ',';
  }
  bool comma_ = false;
};

bool IsTypeTag(int tag) {
  return tag == DW_TAG_structure_type || tag == DW_TAG_class_type || tag == DW_TAG_union_type ||
         tag == DW_TAG_enumeration_type;
}

class Reader {
 public:
  explicit Reader(Napi::Env env) : env_(env) {}
  ~Reader() {
    if (dwfl_) dwfl_end(dwfl_);
  }

  void Open(const std::string& path) {
    static char* debuginfoPath = nullptr;
    static const Dwfl_Callbacks callbacks = {
        dwfl_build_id_find_elf, dwfl_standard_find_debuginfo, dwfl_offline_section_address, &debuginfoPath};
    dwfl_ = dwfl_begin(&callbacks);
    if (!dwfl_) throw Fail{std::string("libdw: ") + dwfl_errmsg(-1)};
    Dwfl_Module* mod = dwfl_report_offline(dwfl_, path.c_str(), path.c_str(), -1);
    if (!mod) throw Fail{std::string("not a readable ELF file (") + dwfl_errmsg(-1) + ")"};
    dwfl_report_end(dwfl_, nullptr, nullptr);
    Dwarf_Addr bias = 0;
    dbg_ = dwfl_module_getdwarf(mod, &bias);
    if (!dbg_) {
      throw Fail{std::string("no debug information (") + dwfl_errmsg(-1) +
                 "): build with -g, or install its debug symbols (the -dbgsym package), found by build-id under /usr/lib/debug"};
    }
  }

  // One pass over every unit: the qualified name of each type definition.
  void Index() {
    Dwarf_CU* cu = nullptr;
    for (;;) {
      Dwarf_Half version = 0;
      uint8_t unitType = 0;
      Dwarf_Die cudie, subdie;
      int r = dwarf_get_units(dbg_, cu, &cu, &version, &unitType, &cudie, &subdie);
      if (r == 1) break;
      if (r != 0) throw Fail{std::string("corrupt DWARF unit list (") + dwarf_errmsg(-1) + ")"};
      units_++;
      Dwarf_Die* top = &cudie;
      if (unitType == DW_UT_skeleton || unitType == DW_UT_split_compile) {
        if (dwarf_tag(&subdie) == DW_TAG_compile_unit) {
          top = &subdie;
        } else {
          const char* dwo = nullptr;
          Dwarf_Attribute a;
          if (dwarf_attr(&cudie, DW_AT_dwo_name, &a) || dwarf_attr(&cudie, DW_AT_GNU_dwo_name, &a)) dwo = dwarf_formstring(&a);
          missingDwo_.push_back(dwo ? dwo : "?");
          continue;
        }
      }
      lang_[dwarf_cu_getdwarf(top->cu)] = dwarf_srclang(top);
      Walk(top, "", 0);
    }
  }

  // The definition named `name` (qualified, or a last component that only one type has).
  bool Find(const std::string& name, Dwarf_Die* out) {
    auto it = defs_.find(name);
    if (it != defs_.end()) {
      *out = it->second;
      return true;
    }
    const Dwarf_Die* found = nullptr;
    for (auto& [q, die] : defs_) {
      size_t at = q.rfind("::");
      if (at != std::string::npos && q.compare(at + 2, std::string::npos, name) == 0 && q.find('<') == std::string::npos) {
        if (found) throw Fail{"\"" + name + "\" names more than one type (" + q + ", …): give its namespace"};
        found = &die;
      }
    }
    if (!found) return false;
    *out = *found;
    return true;
  }

  std::vector<std::string> AllNames() const {
    std::vector<std::string> v;
    v.reserve(defs_.size());
    for (auto& [q, die] : defs_) v.push_back(q);
    return v;
  }

  // A reference to a type, as a small JSON object; aggregates and enums are queued by id. `td` is
  // the typedef nearest the type that names it (written as "typedef").
  void Ref(Dwarf_Die* die, int depth, const std::string* td = nullptr) {
    if (depth > kMaxDepth) return Bad("a type chain deeper than 64 (a cycle?)", td);
    int tag = dwarf_tag(die);
    switch (tag) {
      case DW_TAG_base_type: {
        Dwarf_Word enc = 0;
        Udata(die, DW_AT_encoding, &enc);
        out_.Open('{');
        out_.Str("k", "base");
        out_.Str("name", Name(die));
        out_.Num("enc", static_cast<double>(enc));
        out_.Num("size", dwarf_bytesize(die));
        return End(td);
      }
      case DW_TAG_pointer_type:
      case DW_TAG_reference_type:
      case DW_TAG_rvalue_reference_type:
      case DW_TAG_ptr_to_member_type:
      case DW_TAG_unspecified_type: {
        int size = dwarf_bytesize(die);
        Dwarf_Die to;
        std::string spelled = TypeOf(die, &to) ? Spelling(&to, depth + 1) : tag == DW_TAG_unspecified_type ? Name(die) : "void";
        out_.Open('{');
        out_.Str("k", "ptr");
        out_.Num("size", size > 0 ? size : 8);
        out_.Str("to", spelled);
        return End(td);
      }
      case DW_TAG_typedef:
      case DW_TAG_const_type:
      case DW_TAG_volatile_type:
      case DW_TAG_restrict_type:
      case DW_TAG_atomic_type: {
        Dwarf_Die to;
        if (!TypeOf(die, &to)) {
          out_.Open('{');
          out_.Str("k", "void");
          return End(td);
        }
        if (tag != DW_TAG_typedef) return Ref(&to, depth + 1, td);
        std::string name = Name(die);
        return Ref(&to, depth + 1, &name);
      }
      case DW_TAG_array_type: {
        Dwarf_Die elem;
        if (!TypeOf(die, &elem)) return Bad("an array without an element type", td);
        std::vector<double> counts;
        Dwarf_Die sub;
        if (dwarf_child(die, &sub) == 0) {
          Dwarf_Off last = 0;
          do {
            Dwarf_Off off = dwarf_dieoffset(&sub);
            if (off <= last || counts.size() > 64) return Bad("corrupt array dimensions", td);
            last = off;
            if (dwarf_tag(&sub) != DW_TAG_subrange_type) continue;
            Dwarf_Word count = 0, upper = 0, lower = 0;
            double c = -1;
            if (Udata(&sub, DW_AT_count, &count)) {
              c = static_cast<double>(count);
            } else if (Udata(&sub, DW_AT_upper_bound, &upper)) {
              Udata(&sub, DW_AT_lower_bound, &lower);
              // A zero-length array is written as upper bound -1 by some producers.
              c = upper == ~Dwarf_Word{0} ? 0 : static_cast<double>(upper - lower + 1);
            }
            if (c > static_cast<double>(kMaxCount)) return Bad("an array of more than 2^40 elements", td);
            counts.push_back(c);
          } while (dwarf_siblingof(&sub, &sub) == 0);
        }
        out_.Open('{');
        out_.Str("k", "array");
        out_.Key("elem");
        Ref(&elem, depth + 1);
        out_.Key("counts");
        out_.Open('[');
        for (double c : counts) out_.Num(c);
        out_.Close(']');
        return End(td);
      }
      case DW_TAG_structure_type:
      case DW_TAG_class_type:
      case DW_TAG_union_type:
      case DW_TAG_enumeration_type: {
        Dwarf_Die def = *die;
        if (Flag(die, DW_AT_declaration)) {
          std::string q = Qualified(die);
          auto it = defs_.find(q);
          if (it == defs_.end()) return Bad("the incomplete type " + (q.empty() ? std::string("(anonymous)") : q), td);
          def = it->second;
        }
        uint32_t id = Queue(&def);
        out_.Open('{');
        out_.Str("k", tag == DW_TAG_enumeration_type ? "enum" : "agg");
        out_.Num("id", id);
        return End(td);
      }
      case DW_TAG_subroutine_type:
        out_.Open('{');
        out_.Str("k", "fn");
        return End(td);
      default: {
        char buf[64];
        snprintf(buf, sizeof buf, "a DWARF type tag 0x%x", tag);
        return Bad(buf, td);
      }
    }
  }

  // Ids are given in order; Describe(i) builds the i-th queued type.
  uint32_t Queue(Dwarf_Die* die) {
    Key k = KeyOf(die);
    auto it = ids_.find(k);
    if (it != ids_.end()) return it->second;
    if (queue_.size() >= kMaxTypes) throw Fail{"more than 2^20 types"};
    uint32_t id = static_cast<uint32_t>(queue_.size());
    ids_.emplace(k, id);
    queue_.push_back(*die);
    return id;
  }

  // Writes the id-th queued type as a JSON object (it may queue more).
  void Describe(uint32_t id) {
    Dwarf_Die die = queue_[id];
    int tag = dwarf_tag(&die);
    out_.Open('{');
    out_.Num("id", id);
    out_.Str("kind", tag == DW_TAG_enumeration_type ? "enum" : tag == DW_TAG_union_type ? "union" : tag == DW_TAG_class_type ? "class" : "struct");
    out_.Str("name", Qualified(&die));
    out_.Num("size", dwarf_bytesize(&die));
    Dwarf_Word align = 0;
    if (Udata(&die, DW_AT_alignment, &align)) out_.Num("align", static_cast<double>(align));
    auto lang = lang_.find(dwarf_cu_getdwarf(die.cu));
    out_.Num("lang", lang == lang_.end() ? 0 : lang->second);
    if (tag == DW_TAG_enumeration_type) {
      DescribeEnum(&die);
    } else {
      DescribeMembers(&die);
    }
    out_.Close('}');
  }

  // Every queued type, as the JSON text of an array (describing one may queue more).
  std::string DescribeAll() {
    out_.s.clear();
    out_.Open('[');
    for (uint32_t i = 0; i < queue_.size(); i++) Describe(i);
    out_.Close(']');
    return std::move(out_.s);
  }

  Napi::Array MissingDwo() {
    Napi::Array a = Napi::Array::New(env_);
    for (uint32_t i = 0; i < missingDwo_.size(); i++) a.Set(i, missingDwo_[i]);
    return a;
  }

  uint64_t units() const { return units_; }

 private:
  void Bad(const std::string& why, const std::string* td) {
    out_.Open('{');
    out_.Str("k", "bad");
    out_.Str("why", why);
    End(td);
  }

  // Closes a reference's object, with the typedef that names it.
  void End(const std::string* td) {
    if (td) out_.Str("typedef", *td);
    out_.Close('}');
  }

  // The C/C++ spelling of a pointee, for a comment: its qualified name, else its tag.
  std::string Spelling(Dwarf_Die* die, int depth) {
    if (depth > kMaxDepth) return "?";
    int tag = dwarf_tag(die);
    Dwarf_Die to;
    switch (tag) {
      case DW_TAG_pointer_type:
        return (TypeOf(die, &to) ? Spelling(&to, depth + 1) : "void") + " *";
      case DW_TAG_const_type:
      case DW_TAG_volatile_type:
        return TypeOf(die, &to) ? Spelling(&to, depth + 1) : "void";
      case DW_TAG_subroutine_type:
        return "function";
      default: {
        std::string q = Qualified(die);
        return q.empty() ? "(anonymous)" : q;
      }
    }
  }

  std::string Qualified(Dwarf_Die* die) {
    auto it = names_.find(KeyOf(die));
    if (it != names_.end()) return it->second;
    return Name(die);
  }

  void Walk(Dwarf_Die* parent, const std::string& prefix, int depth) {
    if (depth > kMaxDepth) throw Fail{"namespaces or classes nested deeper than 64"};
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return;
    Dwarf_Off last = 0;
    do {
      Dwarf_Off off = dwarf_dieoffset(&child);
      if (off <= last) throw Fail{"corrupt DWARF: a sibling chain goes backwards"};
      last = off;
      if (++dies_ > kMaxDies) throw Fail{"more than 2^32 DIEs"};
      int tag = dwarf_tag(&child);
      if (tag == DW_TAG_namespace) {
        std::string n = Name(&child);
        Walk(&child, prefix + (n.empty() ? "(anonymous namespace)" : n) + "::", depth + 1);
      } else if (IsTypeTag(tag)) {
        std::string n = Name(&child);
        if (n.empty()) continue;
        std::string q = prefix + n;
        names_.emplace(KeyOf(&child), q);
        if (!Flag(&child, DW_AT_declaration) && dwarf_hasattr(&child, DW_AT_byte_size)) defs_.emplace(q, child);
        if (tag != DW_TAG_enumeration_type) Walk(&child, q + "::", depth + 1);
      } else if (tag == DW_TAG_typedef) {
        // `typedef struct { … } Name;`: the anonymous type takes the typedef's name.
        Dwarf_Die to;
        std::string n = Name(&child);
        if (n.empty() || !TypeOf(&child, &to) || !IsTypeTag(dwarf_tag(&to)) || !Name(&to).empty()) continue;
        std::string q = prefix + n;
        names_.emplace(KeyOf(&to), q);
        if (!Flag(&to, DW_AT_declaration) && dwarf_hasattr(&to, DW_AT_byte_size)) defs_.emplace(q, to);
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }

  void DescribeEnum(Dwarf_Die* die) {
    Dwarf_Die base;
    bool isSigned = false;
    if (TypeOf(die, &base)) {
      out_.Key("base");
      Ref(&base, 1);
      Dwarf_Word enc = 0;
      Dwarf_Die b = base;
      for (int i = 0; i < kMaxDepth && dwarf_tag(&b) != DW_TAG_base_type && TypeOf(&b, &b); i++) {
      }
      if (Udata(&b, DW_AT_encoding, &enc)) isSigned = enc == DW_ATE_signed || enc == DW_ATE_signed_char;
    }
    out_.Bool("enumClass", Flag(die, DW_AT_enum_class));
    int size = dwarf_bytesize(die);
    out_.Key("items");
    out_.Open('[');
    Dwarf_Die e;
    uint32_t n = 0;
    if (dwarf_child(die, &e) == 0) {
      Dwarf_Off last = 0;
      do {
        Dwarf_Off off = dwarf_dieoffset(&e);
        if (off <= last || n >= kMaxChildren) throw Fail{"corrupt DWARF: enumerators of " + Qualified(die)};
        last = off;
        if (dwarf_tag(&e) != DW_TAG_enumerator) continue;
        Dwarf_Attribute a;
        if (!dwarf_attr(&e, DW_AT_const_value, &a)) continue;
        unsigned form = dwarf_whatform(&a);
        std::string value;
        if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
          Dwarf_Sword s = 0;
          if (dwarf_formsdata(&a, &s) != 0) continue;
          value = std::to_string(s);
        } else {
          Dwarf_Word u = 0;
          if (dwarf_formudata(&a, &u) != 0) continue;
          if (isSigned && size > 0 && size < 8) {
            uint64_t sign = uint64_t{1} << (size * 8 - 1);
            u &= (sign << 1) - 1;
            value = (u & sign) ? std::to_string(static_cast<int64_t>(u) - static_cast<int64_t>(sign << 1)) : std::to_string(u);
          } else {
            value = isSigned ? std::to_string(static_cast<int64_t>(u)) : std::to_string(u);
          }
        }
        out_.Open('{');
        out_.Str("name", Name(&e));
        out_.Str("value", value);
        out_.Close('}');
        n++;
      } while (dwarf_siblingof(&e, &e) == 0);
    }
    out_.Close(']');
    out_.Bool("signed", isSigned);
  }

  // The constant of DW_AT_data_member_location (a number, or DW_OP_plus_uconst); -1 for an
  // expression (a virtual base, found through the vtable).
  double Location(Dwarf_Die* m) {
    Dwarf_Attribute a;
    if (!dwarf_attr(m, DW_AT_data_member_location, &a)) return 0;
    Dwarf_Word w = 0;
    if (dwarf_formudata(&a, &w) == 0) return static_cast<double>(w);
    Dwarf_Op* ops = nullptr;
    size_t n = 0;
    if (dwarf_getlocation(&a, &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_plus_uconst) return static_cast<double>(ops[0].number);
    return -1;
  }

  void DescribeMembers(Dwarf_Die* die) {
    out_.Key("members");
    out_.Open('[');
    Dwarf_Die m;
    uint32_t n = 0;
    if (dwarf_child(die, &m) == 0) {
      Dwarf_Off last = 0;
      do {
        Dwarf_Off off = dwarf_dieoffset(&m);
        if (off <= last || n >= kMaxChildren) throw Fail{"corrupt DWARF: members of " + Qualified(die)};
        last = off;
        int tag = dwarf_tag(&m);
        if (tag == DW_TAG_variant_part) {
          out_.Open('{');
          out_.Str("name", "(variant part)");
          out_.Bool("variant", true);
          out_.Close('}');
          n++;
          continue;
        }
        if (tag != DW_TAG_member && tag != DW_TAG_inheritance) continue;
        // A static data member (DWARF 4 writes it as a member declaration).
        if (tag == DW_TAG_member && (Flag(&m, DW_AT_external) || Flag(&m, DW_AT_declaration))) continue;
        out_.Open('{');
        Dwarf_Die t;
        out_.Str("name", Name(&m));
        out_.Key("type");
        if (TypeOf(&m, &t)) {
          Ref(&t, 1);
        } else {
          Bad("a member without a type", nullptr);
        }
        double loc = Location(&m);
        out_.Num("offset", loc);
        if (tag == DW_TAG_inheritance) {
          out_.Bool("base", true);
          Dwarf_Word v = 0;
          if (Udata(&m, DW_AT_virtuality, &v) && v != 0) out_.Bool("virtual", true);
        }
        if (Flag(&m, DW_AT_artificial)) out_.Bool("artificial", true);
        Dwarf_Word bits = 0, bitOff = 0, align = 0;
        if (Udata(&m, DW_AT_bit_size, &bits)) {
          out_.Num("bitSize", static_cast<double>(bits));
          if (Udata(&m, DW_AT_data_bit_offset, &bitOff)) {
            out_.Num("bitPos", static_cast<double>(bitOff));
          } else if (Udata(&m, DW_AT_bit_offset, &bitOff)) {
            // DWARF 2/3: bits from the most significant end of a storage unit of byte_size bytes.
            int unit = dwarf_bytesize(&m);
            if (unit <= 0 && TypeOf(&m, &t)) unit = dwarf_bytesize(&t);
            out_.Num("bitPos", (loc < 0 ? 0 : loc) * 8 + static_cast<double>(unit * 8) - static_cast<double>(bitOff + bits));
          } else {
            out_.Num("bitPos", (loc < 0 ? 0 : loc) * 8);
          }
        }
        if (Udata(&m, DW_AT_alignment, &align)) out_.Num("align", static_cast<double>(align));
        out_.Close('}');
        n++;
      } while (dwarf_siblingof(&m, &m) == 0);
    }
    out_.Close(']');
  }

  Napi::Env env_;
  Dwfl* dwfl_ = nullptr;
  Dwarf* dbg_ = nullptr;
  uint64_t units_ = 0;
  uint64_t dies_ = 0;
  std::map<std::string, Dwarf_Die> defs_;
  std::unordered_map<Key, std::string, KeyHash> names_;
  std::unordered_map<Key, uint32_t, KeyHash> ids_;
  std::unordered_map<const Dwarf*, int> lang_;
  std::deque<Dwarf_Die> queue_;
  Json out_;
  std::vector<std::string> missingDwo_;
};

// readTypes(path, names[], all) → {types: JSON text of the array of types, roots: {name: id},
// missing: [name], units, missingDwo}
Napi::Value ReadTypes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsBoolean()) {
    throw Napi::TypeError::New(env, "usage: readTypes(path: string, names: string[], all: boolean)");
  }
  std::string path = info[0].As<Napi::String>();
  Napi::Array names = info[1].As<Napi::Array>();
  bool all = info[2].As<Napi::Boolean>();
  Reader r(env);
  try {
    r.Open(path);
    r.Index();
    Napi::Object roots = Napi::Object::New(env);
    Napi::Array missing = Napi::Array::New(env);
    uint32_t nMissing = 0;
    std::vector<std::string> wanted;
    if (all) wanted = r.AllNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      Napi::Value v = names.Get(i);
      if (v.IsString()) wanted.push_back(v.As<Napi::String>());
    }
    for (const std::string& n : wanted) {
      Dwarf_Die die;
      if (r.Find(n, &die)) {
        roots.Set(n, r.Queue(&die));
      } else {
        missing.Set(nMissing++, n);
      }
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("types", r.DescribeAll());
    out.Set("roots", roots);
    out.Set("missing", missing);
    out.Set("units", static_cast<double>(r.units()));
    out.Set("missingDwo", r.MissingDwo());
    return out;
  } catch (const Fail& f) {
    Napi::Error e = Napi::Error::New(env, f.message);
    e.Set("code", "EDWARF");
    throw e;
  }
}

// listTypes(path) → the qualified names of every type definition (for a searchable pick).
Napi::Value ListTypes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "usage: listTypes(path: string)");
  Reader r(env);
  try {
    r.Open(info[0].As<Napi::String>());
    r.Index();
    std::vector<std::string> names = r.AllNames();
    Napi::Array out = Napi::Array::New(env, names.size());
    for (uint32_t i = 0; i < names.size(); i++) out.Set(i, names[i]);
    return out;
  } catch (const Fail& f) {
    Napi::Error e = Napi::Error::New(env, f.message);
    e.Set("code", "EDWARF");
    throw e;
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("readTypes", Napi::Function::New(env, ReadTypes));
  exports.Set("listTypes", Napi::Function::New(env, ListTypes));
  return exports;
}

}  // namespace

NODE_API_MODULE(shmscope_dwarf, Init)
