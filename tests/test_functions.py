"""Terraform built-in functions: known results, unknown propagation, Templates, errors."""

from __future__ import annotations

import json

import pytest

from soc2lint.evaluate.functions import FUNCTIONS, LAZY, call
from soc2lint.evaluate.values import Encoded, EvalError, Ref, Template, Unknown

X = Unknown("var.x has no value")
REF = Ref("aws_s3_bucket.logs.arn", "aws_s3_bucket.logs", attribute="arn")
ARN = Template('"arn:${data.p.partition}:s3"', ("arn:", X, ":s3"))


def f(name: str, *args):
    return call(name, list(args), f"{name}(...)")


def thunk(value):
    return lambda: value


def failing():
    raise EvalError("boom")


# -- registry and dispatch ------------------------------------------------------------------
def test_required_functions_are_registered():
    required = {
        "jsonencode", "jsondecode", "merge", "lookup", "try", "can", "coalesce", "concat", "flatten",
        "tolist", "toset", "tomap", "format", "join", "split", "lower", "upper", "contains", "length",
        "element", "keys", "values",
    }
    assert required <= FUNCTIONS.keys()
    assert {"try", "can"} == LAZY


def test_unknown_function_is_unknown_named_by_source():
    result = call("cidrhost", ["10.0.0.0/8", 1], 'cidrhost("10.0.0.0/8", 1)')
    assert isinstance(result, Unknown)
    assert result.reason == "cidrhost(\"10.0.0.0/8\", 1): function 'cidrhost' is not evaluated"


@pytest.mark.parametrize(("name", "args"), [("lower", []), ("lower", ["a", "b"]), ("element", [[1]]),
                                            ("lookup", [{}]), ("can", []), ("trimspace", ["a", "b"])])
def test_wrong_arity_is_an_error(name, args):
    with pytest.raises(EvalError, match=f"^{name}: wrong number of arguments"):
        call(name, args, "src")


def test_variadic_functions_accept_any_count():
    assert f("merge") == {}
    assert f("concat") == []
    assert f("max", 3) == 3


def test_wrong_arity_is_an_error_even_with_unknown_arguments():
    with pytest.raises(EvalError):
        f("upper", X, X)


# -- unknown propagation ------------------------------------------------------------------
@pytest.mark.parametrize(("name", "args"), [
    ("length", [X]), ("keys", [X]), ("values", [X]), ("merge", [{"a": 1}, X]), ("element", [X, 0]),
    ("element", [[1, 2], X]), ("split", [",", X]), ("lower", [X]), ("upper", [X]), ("tostring", [X]),
    ("tonumber", [X]), ("concat", [[1], X]), ("flatten", [X]), ("tolist", [X]), ("toset", [X]),
    ("tomap", [X]), ("contains", [X, "a"]), ("contains", [["a"], X]), ("lookup", [X, "k"]),
    ("lookup", [{"k": 1}, X]), ("format", [X, 1]), ("join", [",", X]), ("jsondecode", [X]),
    ("jsonencode", [X]), ("replace", [X, "a", "b"]), ("sort", [["a", X]]), ("zipmap", [["a", X], [1, 2]]),
    ("coalesce", [None, "", X, "b"]), ("coalescelist", [[], X, [1]]), ("startswith", [X, "a"]),
    ("regex", ["a", X]), ("max", [1, X]), ("formatlist", ["%s", X]),
])
def test_unknown_argument_is_returned_itself(name, args):
    assert f(name, *args) is X


def test_ref_propagates_as_itself():
    assert f("lower", REF) is REF
    assert f("element", f("split", ":", REF), 5) is REF


def test_template_or_encoded_for_a_result_of_another_kind_keeps_only_the_reason():
    result = f("length", ARN)
    assert type(result) is Unknown
    assert result.reason == ARN.reason
    encoded = Encoded("jsonencode(x)", {"a": X})
    assert type(f("trimspace", encoded)) is Unknown


def test_timestamp_and_files_are_unknown():
    assert call("timestamp", [], "timestamp()").reason == "timestamp(): not known until apply"
    for name in ("file", "templatefile"):
        result = call(name, ["x.json"], f'{name}("x.json")')
        assert isinstance(result, Unknown)
        assert result.reason == f'{name}("x.json"): file contents are not read'


# -- try / can -----------------------------------------------------------------------------
def test_try_returns_first_success():
    assert f("try", failing, thunk("b"), thunk("c")) == "b"
    assert f("try", thunk(None)) is None


def test_try_unknown_result_is_that_unknown():
    assert f("try", thunk(X), thunk("fallback")) is X


def test_try_all_failing_is_an_error():
    with pytest.raises(EvalError, match="no expression succeeded"):
        f("try", failing, failing)


def test_can():
    assert f("can", thunk({"a": 1})) is True
    assert f("can", failing) is False
    assert f("can", thunk(X)) is X
    assert f("can", thunk({"a": [X]})) is X


def test_try_does_not_swallow_other_exceptions():
    def broken():
        raise KeyError("bug")

    with pytest.raises(KeyError):
        f("try", broken, thunk(1))


# -- json ---------------------------------------------------------------------------------
def test_jsonencode_known_is_compact_with_sorted_keys():
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Sid": 1.0}]}
    text = f("jsonencode", doc)
    assert text == '{"Statement":[{"Action":["s3:*"],"Effect":"Allow","Sid":1}],"Version":"2012-10-17"}'
    assert json.loads(text)["Statement"][0]["Sid"] == 1


def test_jsonencode_escapes_like_terraform():
    assert f("jsonencode", "<a&b>") == '"\\u003ca\\u0026b\\u003e"'
    assert f("jsonencode", [True, None, 0.5, "é"]) == '[true,null,0.5,"é"]'


def test_jsonencode_with_unknown_inside_is_encoded():
    doc = {"Resource": ARN, "Effect": "Allow"}
    result = call("jsonencode", [doc], "jsonencode(local.doc)")
    assert isinstance(result, Encoded)
    assert result.reason == "jsonencode(local.doc)"
    assert result.decoded is doc
    assert f("jsondecode", result) is doc


def test_jsondecode():
    assert f("jsondecode", '{"a": [1, 2.0, true, null], "b": "x"}') == {"a": [1, 2, True, None], "b": "x"}
    assert f("jsondecode", "5") == 5


@pytest.mark.parametrize("text", ["{", "NaN", "", "{'a': 1}"])
def test_jsondecode_invalid_is_an_error(text):
    with pytest.raises(EvalError, match=r"^jsondecode: invalid JSON"):
        f("jsondecode", text)


# -- maps -----------------------------------------------------------------------------------
def test_merge_later_wins_and_carries_unknown_values():
    result = f("merge", {"b": 1, "a": X}, None, {"b": 2, "c": 3})
    assert result == {"a": X, "b": 2, "c": 3}
    assert result["a"] is X
    assert list(result) == ["a", "b", "c"]


def test_merge_of_non_map_is_an_error():
    with pytest.raises(EvalError, match=r"^merge: a map is required"):
        f("merge", {"a": 1}, ["b"])


def test_lookup():
    assert f("lookup", {"k": "v", "other": X}, "k") == "v"
    assert f("lookup", {"k": "v"}, "missing", "dflt") == "dflt"
    assert f("lookup", {"k": "v"}, "k", X) == "v"
    assert f("lookup", {"k": "v"}, "missing", X) is X
    with pytest.raises(EvalError, match=r"^lookup: the key is not in the map and no default") as caught:
        f("lookup", {"k": "v"}, "missing")
    assert "missing" not in str(caught.value)  # the key may be a literal: never quoted


RE2_ERROR = "regex: invalid regular expression (RE2 syntax: no backreferences or lookaround)"


@pytest.mark.parametrize(("name", "args", "message"), [
    ("tonumber", ["s3cr3t-value"], "tonumber: a number is required, got string"),
    ("tobool", ["s3cr3t-value"], "tobool: a bool is required, got string"),
    ("format", ["%d-s3cr3t-value", "x"], "format: a number is required, got string"),
    ("format", ["s3cr3t-value %"], "format: invalid format verb at offset 13"),
    ("format", ["s3cr3t-value %s"], "format: not enough arguments for the verb at offset 13"),
    ("regex", ["(s3cr3t-value", "x"], RE2_ERROR),
    ("regex", ["(?P=s3cr3t)", "x"], RE2_ERROR),
    ("regex", ["s3cr3t[z-a]", "x"], RE2_ERROR),
    ("format", ["%Q", "x"], "format: unsupported format verb"),
    ("format", ["%.999999999f", 1], "format: a width or precision above 4096 is not evaluated"),
    ("sha256", ["s3cr3t-value\ud800"], "sha256: an argument has no valid value"),
])
def test_error_messages_name_the_kind_never_the_value(name, args, message):
    with pytest.raises(EvalError) as caught:
        f(name, *args)
    assert str(caught.value) == message


def test_keys_values_are_in_lexicographic_key_order():
    mapping = {"b": 2, "a": X, "C": 3}
    assert f("keys", mapping) == ["C", "a", "b"]
    values = f("values", mapping)
    assert values == [3, X, 2]
    assert values[1] is X


def test_tomap_and_zipmap():
    assert f("tomap", {"b": 1, "a": "x"}) == {"a": "x", "b": "1"}
    assert f("tomap", None) is None
    assert f("zipmap", ["b", "a"], [1, X]) == {"a": X, "b": 1}
    with pytest.raises(EvalError, match=r"^zipmap: 2 keys but 1 values"):
        f("zipmap", ["a", "b"], [1])
    with pytest.raises(EvalError, match=r"^tomap: a map is required"):
        f("tomap", [1])


# -- lists ----------------------------------------------------------------------------------
def test_concat_and_flatten_keep_unknown_items():
    assert f("concat", [1, X], [], ["a"]) == [1, X, "a"]
    flat = f("flatten", [[1, [2, [X]]], [], 3, [X, None]])
    assert flat == [1, 2, X, 3, X, None]
    assert flat[2] is X
    with pytest.raises(EvalError, match=r"^concat: a list is required"):
        f("concat", [1], "a")


def test_tolist_unifies_types():
    assert f("tolist", ["a", 1, True, X]) == ["a", "1", "true", X]
    assert f("tolist", [1, 2]) == [1, 2]
    with pytest.raises(EvalError, match="same type"):
        f("tolist", [1, True])
    with pytest.raises(EvalError, match=r"^tolist: a list is required"):
        f("tolist", {"a": 1})


def test_toset_deduplicates_and_sorts():
    assert f("toset", ["b", "a", "b", 1]) == ["1", "a", "b"]
    assert f("toset", [3, 1, 3.0, 2]) == [1, 2, 3]
    assert f("toset", [X, "b", "a", X]) == ["a", "b", X]
    assert f("toset", [{"a": 1}, {"a": 1}]) == [{"a": 1}]
    assert f("toset", [1, True, "x"]) == ["1", "true", "x"]


def test_length():
    assert f("length", [X, X, 1]) == 3
    assert f("length", {"a": X}) == 1
    assert f("length", "héllo") == 5
    with pytest.raises(EvalError, match=r"^length:"):
        f("length", None)
    with pytest.raises(EvalError, match=r"^length:"):
        f("length", 5)


def test_contains():
    assert f("contains", ["a", X], "a") is True
    assert f("contains", ["b", X, Unknown("other")], "a") is X
    assert f("contains", ["b", "c"], "a") is False
    assert f("contains", ["1", "2"], 1) is True
    assert f("contains", [1], True) is False
    assert f("contains", [{"a": 1}], {"a": 1}) is True
    with pytest.raises(EvalError, match=r"^contains: a list is required"):
        f("contains", "abc", "a")


def test_element_wraps_around():
    assert f("element", ["a", "b", "c"], 4) == "b"
    assert f("element", ["a", X], 1) is X
    assert f("element", ["a", "b"], "1") == "b"
    with pytest.raises(EvalError, match="empty list"):
        f("element", [], 0)
    with pytest.raises(EvalError, match="negative index"):
        f("element", ["a"], -1)
    with pytest.raises(EvalError, match="integer"):
        f("element", ["a"], 0.5)


def test_index():
    assert f("index", ["a", "b"], "b") == 1
    assert f("index", ["a", X, "b"], "b") is X
    with pytest.raises(EvalError, match="item not found"):
        f("index", ["a"], "z")


def test_compact_distinct_reverse_sort():
    assert f("compact", ["a", "", None, X, 1]) == ["a", X, "1"]
    assert f("distinct", ["a", "b", "a", X, X, 1, 1.0, True]) == ["a", "b", X, X, 1, True]
    assert f("reverse", [1, X, 3]) == [3, X, 1]
    assert f("sort", ["b", "a", 10, 9]) == ["10", "9", "a", "b"]
    with pytest.raises(EvalError, match=r"^sort: a string is required"):
        f("sort", ["a", None])


def test_slice_one_range():
    assert f("slice", [1, 2, 3, 4], 1, 3) == [2, 3]
    with pytest.raises(EvalError, match="out of range"):
        f("slice", [1, 2], 1, 3)
    assert f("one", []) is None
    assert f("one", [X]) is X
    with pytest.raises(EvalError, match=r"^one:"):
        f("one", [1, 2])
    assert f("range", 3) == [0, 1, 2]
    assert f("range", 1, 4) == [1, 2, 3]
    assert f("range", 5, 2) == [5, 4, 3]
    assert f("range", 0, 1, 0.25) == [0, 0.25, 0.5, 0.75]
    assert f("range", 0, 5, -1) == []
    with pytest.raises(EvalError, match="step"):
        f("range", 0, 5, 0)
    with pytest.raises(EvalError, match="1024"):
        f("range", 2000)


def test_alltrue_anytrue():
    assert f("alltrue", []) is True
    assert f("alltrue", [True, "true"]) is True
    assert f("alltrue", [True, X]) is X
    assert f("alltrue", [X, False]) is False
    assert f("anytrue", []) is False
    assert f("anytrue", [X, True]) is True
    assert f("anytrue", [False, X]) is X
    with pytest.raises(EvalError, match=r"^alltrue: a bool is required"):
        f("alltrue", ["yes"])


def test_coalescelist():
    assert f("coalescelist", [], [X], [1]) == [X]
    assert f("coalescelist", None, [], ["a"]) == ["a"]
    with pytest.raises(EvalError, match="no non-empty list"):
        f("coalescelist", [], [])


def test_set_operations():
    assert f("setunion", ["b", "a"], ["c", "a"]) == ["a", "b", "c"]
    assert f("setintersection", ["a", "b", "c"], ["c", "b"], ["b", "c", "d"]) == ["b", "c"]
    assert f("setintersection", ["a"], ["a", X]) is X
    assert f("setsubtract", ["a", "b", X], ["b"]) == ["a", X]
    assert f("setsubtract", ["a"], [X]) is X


# -- coalesce ---------------------------------------------------------------------------------
def test_coalesce():
    assert f("coalesce", None, "", "a", "b") == "a"
    assert f("coalesce", None, 0) == 0
    assert f("coalesce", "", 5, "x") == "5"
    assert f("coalesce", None, ARN, "x") is ARN
    assert f("coalesce", X, "a") is X
    with pytest.raises(EvalError, match=r"^coalesce: no non-null"):
        f("coalesce", None, "")


# -- strings ------------------------------------------------------------------------------------
def test_join_converts_primitives():
    assert f("join", ",", [1, True, "a", 2.5, 3.0]) == "1,true,a,2.5,3"
    assert f("join", "-", ["a"], ["b", "c"]) == "a-b-c"
    assert f("join", ",", []) == ""
    with pytest.raises(EvalError, match=r"^join: element 1 is null"):
        f("join", ",", ["a", None])
    with pytest.raises(EvalError, match=r"^join: a string is required"):
        f("join", ",", [["a"]])


def test_join_with_unknown_items_is_a_template():
    result = call("join", ["/", ["arn", ARN, "x"]], 'join("/", local.parts)')
    assert isinstance(result, Template)
    assert result.reason == 'join("/", local.parts)'
    assert result.parts == ("arn/arn:", X, ":s3/x")
    assert result.parts[1] is X
    assert result.fill("*") == "arn/arn:*:s3/x"


def test_join_single_unknown_item_is_that_unknown():
    assert f("join", ",", [X]) is X
    assert f("join", X, ["only"]) == "only"


def test_split():
    assert f("split", ",", "a,b,,c") == ["a", "b", "", "c"]
    assert f("split", ",", "") == [""]
    assert f("split", "", "abc") == ["a", "b", "c"]
    assert f("split", 1, "a1b") == ["a", "b"]


def test_lower_upper_and_templates():
    assert f("lower", "HeLLo") == "hello"
    assert f("upper", "abc") == "ABC"
    assert f("upper", 5) == "5"
    lowered = call("lower", [Template("t", ("ARN:", X, ":S3"))], "lower(local.t)")
    assert isinstance(lowered, Template)
    assert lowered.reason == "lower(local.t)"
    assert lowered.parts == ("arn:", X, ":s3")
    assert lowered.parts[1] is X
    with pytest.raises(EvalError, match=r"^lower: a string is required, got list"):
        f("lower", ["A"])


def test_format_known():
    assert f("format", "%s-%d", "a", 5) == "a-5"
    assert f("format", "%5s|%-5s|", "ab", "cd") == "   ab|cd   |"
    assert f("format", "%03d|%+d|%x|%X|%o|%b", 7, 3, 255, 255, 8, 5) == "007|+3|ff|FF|10|101"
    assert f("format", "%.2f|%8.3f|%f", 3.14159, 2.5, 1) == "3.14|   2.500|1.000000"
    assert f("format", "%e", 1234.5) == "1.234500e+03"
    assert f("format", "%t|%t|%v|%v", True, "false", False, None) == "true|false|false|null"
    assert f("format", "%v|%v|%v", "s", 8080, 1000000) == "s|8080|1e+06"
    assert f("format", "%v", {"b": [1], "a": "x"}) == '{"a":"x","b":[1]}'
    assert f("format", "%q", 'say "hi"') == '"say \\"hi\\""'
    assert f("format", "%.3s|100%%", "abcdef") == "abc|100%"
    assert f("format", "%[2]s %[1]s %s", "a", "b") == "b a b"
    assert f("format", "%s", "50%") == "50%"
    assert f("format", "%d", "12") == "12"


@pytest.mark.parametrize(("fmt", "args", "message"), [
    ("%s %s", ["a"], "not enough arguments"),
    ("%s", ["a", "b"], "too many arguments"),
    ("%y", ["a"], "unsupported format verb"),
    ("%", [], "invalid format verb"),
    ("%d", [1.5], "integer"),
    ("%d", ["abc"], "a number is required"),
    ("%s", [None], "null value"),
    ("%s", [["a"]], "a string is required"),
    ("%t", ["yes"], "a bool is required"),
])
def test_format_errors(fmt, args, message):
    with pytest.raises(EvalError, match=f"^format: .*{message}"):
        f("format", fmt, *args)


def test_format_with_unknown_is_a_template():
    result = call("format", ["%s-%s", "a", X], 'format("%s-%s", "a", var.x)')
    assert isinstance(result, Template)
    assert result.reason == 'format("%s-%s", "a", var.x)'
    assert result.parts == ("a-", X)
    assert result.parts[1] is X
    spliced = f("format", "%s/*", ARN)
    assert spliced.parts == ("arn:", X, ":s3/*")
    assert f("format", "%s", X) is X
    assert f("format", "%d items", REF).parts[0] is REF


def test_format_with_nested_unknown_names_it():
    result = f("format", "policy=%v", {"a": [X]})
    assert result.parts == ("policy=", X)


def test_formatlist():
    assert f("formatlist", "%s-%s", ["a", "b"], "x") == ["a-x", "b-x"]
    assert f("formatlist", "%s=%d", ["a", "b"], [1, 2]) == ["a=1", "b=2"]
    assert f("formatlist", "%s", []) == []
    with_hole = f("formatlist", "%s!", ["a", X])
    assert with_hole[0] == "a!"
    assert with_hole[1].parts == (X, "!")
    with pytest.raises(EvalError, match="different lengths"):
        f("formatlist", "%s%s", ["a"], ["b", "c"])


def test_tostring_tonumber_tobool():
    assert f("tostring", 5) == "5"
    assert f("tostring", 2.5) == "2.5"
    assert f("tostring", 1e-05) == "0.00001"
    assert f("tostring", True) == "true"
    assert f("tostring", None) is None
    assert f("tostring", ARN) is ARN
    assert f("tonumber", "90") == 90
    assert f("tonumber", "1.5") == 1.5
    assert f("tonumber", "1e3") == 1000
    assert f("tonumber", 7) == 7
    assert f("tobool", "true") is True
    assert f("tobool", "0") is False
    assert f("tobool", None) is None
    with pytest.raises(EvalError, match=r"^tonumber: a number is required"):
        f("tonumber", "12abc")
    with pytest.raises(EvalError, match=r"^tonumber"):
        f("tonumber", True)
    with pytest.raises(EvalError, match=r"^tobool: a bool is required"):
        f("tobool", "TRUE")
    with pytest.raises(EvalError, match=r"^tostring: a string is required"):
        f("tostring", [1])


def test_replace():
    assert f("replace", "a.b.c", ".", "-") == "a-b-c"
    assert f("replace", "hello world", "/o(\\s)/", "0$1") == "hell0 world"
    assert f("replace", "abc123", "/(?P<n>\\d+)/", "<${n}>$$") == "abc<123>$"
    assert f("replace", "abc123", "/(?<n>\\d+)/", "[$n]") == "abc[123]"
    assert f("replace", "a/b", "/", "|") == "a|b"
    with pytest.raises(EvalError, match=r"^replace: invalid regular expression"):
        f("replace", "x", "/(/", "")


def test_substr_and_trims():
    assert f("substr", "hello world", 1, 4) == "ello"
    assert f("substr", "hello", -3, -1) == "llo"
    assert f("substr", "hello", 10, 2) == ""
    assert f("trimspace", "  a b \n") == "a b"
    assert f("trim", "?!hello?!", "!?") == "hello"
    assert f("trimprefix", "helloworld", "hello") == "world"
    assert f("trimsuffix", "helloworld", "world") == "hello"
    assert f("chomp", "line\r\n\n") == "line"
    assert f("strrev", "abc") == "cba"
    assert f("title", "hello wORLD-x_y") == "Hello WORLD-X_y"


def test_startswith_endswith():
    assert f("startswith", "arn:aws", "arn:") is True
    assert f("endswith", "file.tf", ".json") is False
    assert f("startswith", ARN, "arn") is True
    assert f("startswith", ARN, "s3") is False
    assert f("endswith", ARN, ":s3") is True
    undecided = f("startswith", ARN, "arn:aws")
    assert type(undecided) is Unknown
    assert undecided.reason == ARN.reason


def test_regex_and_regexall():
    assert f("regex", "[a-z]+", "123abc456") == "abc"
    assert f("regex", "(\\d+)-(\\d+)?x", "12-x") == ["12", None]
    assert f("regex", "(?P<y>\\d{4})-(?P<m>\\d{2})", "on 2024-05") == {"m": "05", "y": "2024"}
    assert f("regexall", "\\d", "a1b2") == ["1", "2"]
    assert f("regexall", "z", "abc") == []
    with pytest.raises(EvalError, match="did not match"):
        f("regex", "z", "abc")
    with pytest.raises(EvalError, match="cannot mix"):
        f("regex", "(?P<a>x)(y)", "xy")


def test_encodings_and_hashes():
    assert f("base64encode", "hello") == "aGVsbG8="
    assert f("base64decode", "aGVsbG8=") == "hello"
    with pytest.raises(EvalError, match=r"^base64decode:"):
        f("base64decode", "%%%")
    assert f("md5", "hello") == "5d41402abc4b2a76b9719d911017c592"
    assert f("sha1", "hello") == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    assert f("sha256", "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert f("urlencode", "a b&c=d/é~") == "a+b%26c%3Dd%2F%C3%A9~"


def test_numbers():
    assert f("max", 1, "5", 3) == 5
    assert f("min", 4, 2.5) == 2.5
    assert f("abs", -3) == 3
    assert f("ceil", 1.2) == 2
    assert f("floor", "1.8") == 1
    with pytest.raises(EvalError, match=r"^max: a number is required"):
        f("max", 1, "x")


def test_replace_inside_a_partly_known_json_document_keeps_its_structure():
    hole = Unknown("aws_s3_bucket.b.id")
    document = Encoded("policy", {"Statement": [{"Resource": "arn:aws:s3:::_ID_/*", "Effect": "Allow"}]})
    replaced = call("replace", [document, "_ID_", hole], "replace(...)")
    assert isinstance(replaced, Encoded)
    resource = replaced.decoded["Statement"][0]["Resource"]
    assert isinstance(resource, Template)
    assert resource.parts == ("arn:aws:s3:::", hole, "/*")
    assert replaced.decoded["Statement"][0]["Effect"] == "Allow"


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)a", "(?<=a)b", "(?!a)b"])
def test_backreferences_and_lookaround_are_rejected_as_terraform_rejects_them(pattern):
    with pytest.raises(EvalError) as caught:
        call("regex", [pattern, "aab"], "regex(...)")
    assert str(caught.value) == RE2_ERROR


def test_regex_is_linear_time_and_keeps_named_groups():
    with pytest.raises(EvalError):  # RE2: no catastrophic backtracking on "^(a+)+$"
        call("regex", ["^(a+)+$", "a" * 5000 + "b"], "regex(...)")
    assert call("regex", ["(?P<k>[a-z]+)-(?<n>[0-9]+)", "ab-12"], "regex(...)") == {"k": "ab", "n": "12"}


def test_flatten_and_concat_stop_at_the_collection_limit():
    from soc2lint.evaluate.budget import BudgetExceeded

    with pytest.raises(BudgetExceeded):
        call("flatten", [[list(range(60_000)), [list(range(60_000))]]], "flatten(...)")
    with pytest.raises(BudgetExceeded):
        call("concat", [list(range(60_000)), list(range(60_000))], "concat(...)")
    with pytest.raises(BudgetExceeded):
        call("replace", ["a" * 2000, "a", "b" * 1000], "replace(...)")
