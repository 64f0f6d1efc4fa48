"""Generate civicvote/accounts/common_passwords.txt: passwords of 10 or more characters that
people commonly choose, which the accounts refuse (accounts/passwords.py).

Built from patterns seen at the top of every published leak analysis: digit runs and repeats,
keyboard walks, common words (English and pinyin) with years and number suffixes. Written
from scratch here (no third-party list), so the file is ours to ship. Run it again after
changing the patterns: ``python scripts/common_passwords.py``.
"""

import itertools
import string
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "civicvote" / "accounts" / "common_passwords.txt"
MIN_LENGTH = 10

WORDS = [
    "password",
    "passw0rd",
    "p@ssword",
    "p@ssw0rd",
    "iloveyou",
    "welcome",
    "admin",
    "administrator",
    "letmein",
    "qwerty",
    "abc",
    "abcd",
    "abcdef",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "basketball",
    "soccer",
    "superman",
    "batman",
    "princess",
    "sunshine",
    "shadow",
    "master",
    "hello",
    "hello123",
    "freedom",
    "whatever",
    "trustno1",
    "starwars",
    "computer",
    "internet",
    "michael",
    "jennifer",
    "jordan",
    "hunter",
    "ranger",
    "buster",
    "thomas",
    "charlie",
    "robert",
    "daniel",
    "pokemon",
    "naruto",
    "summer",
    "winter",
    "spring",
    "autumn",
    "flower",
    "lovely",
    "loveme",
    "login",
    "access",
    "secret",
    "changeme",
    "default",
    "guest",
    "user",
    "test",
    "tester",
    "testing",
    "qazwsx",
    "zxcvbnm",
    "asdfgh",
    "qwertyuiop",
    "china",
    "beijing",
    "shanghai",
    "shenzhen",
    "guangzhou",
    "hangzhou",
    "chengdu",
    "wuhan",
    "woaini",
    "wodemima",
    "mima",
    "zhongguo",
    "aini",
    "woaini1314",
    "aiwo",
    "nihao",
    "laopo",
    "laogong",
    "baobao",
    "baobei",
    "xiaobao",
    "xiaoming",
    "zhangwei",
    "wangfang",
    "liwei",
    "liuyang",
    "wangwei",
    "tianya",
    "tiantian",
    "jiayou",
    "shequ",
    "shequjijin",
    "toupiao",
    "civicvote",
    "community",
    "organizer",
    "clerk",
    "reviewer",
    "supervisor",
    "voter",
    "vote",
    "ballot",
    "register",
    "residents",
    "resident",
    "budget",
    "project",
]
SUFFIXES = [
    "",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "!",
    "!!",
    "@123",
    "#123",
    "1314",
    "520",
    "521",
    "5201314",
    "666",
    "888",
    "88888",
    "999",
    "000",
    "111",
    "2008",
    "007",
    "01",
    "11",
    "99",
    "1!",
    "123!",
    "abc",
    "qwe",
    "@",
    ".",
    "_123",
]
YEARS = [str(year) for year in range(1980, 2031, 1)]
WALKS = [
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx",
    "1qaz2wsx3edc",
    "1qaz2wsx3edc4rfv",
    "qazwsxedc",
    "qazwsxedcrfv",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "q1w2e3r4t5",
    "zaq12wsx",
    "zaq1xsw2",
    "!qaz2wsx",
    "qweasdzxc",
    "asdfghjkl;",
    "poiuytrewq",
    "mnbvcxz",
    "qwertyuiop[]",
    "1234qwer",
    "qwer1234",
    "asdf1234",
    "zxcv1234",
    "1234asdf",
    "abcd1234",
    "a1b2c3d4e5",
    "aa123456",
    "aa12345678",
    "qwe123qwe",
    "asd123asd",
    "123qweasd",
    "123qweasdzxc",
    "qweasd123",
    "qwerty123",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "abc123456",
    "abc1234567",
    "abcd123456",
    "abcde12345",
    "abcdefghij",
    "abcdefg123",
    "1234567890",
    "0987654321",
    "0123456789",
    "9876543210",
    "1234512345",
    "1122334455",
    "1212121212",
    "1231231231",
    "123123123123",
    "1234567890-",
    "12345678910",
    "147258369",
    "1472583690",
    "159357159357",
    "741852963",
    "7418529630",
    "3692581470",
    "5201314520",
    "1314520520",
    "5211314521",
    "11223344",
    "aaaa1111",
    "1111aaaa",
    "1q2w3e4r5t6y7u8i9o0p",
]


def candidates():
    for length in range(MIN_LENGTH, 17):
        for char in string.ascii_lowercase + string.digits:
            yield char * length
        for start in range(10):
            yield "".join(str((start + i) % 10) for i in range(length))
            yield "".join(str((start - i) % 10) for i in range(length))
    for pair in itertools.product(string.digits, repeat=2):
        yield "".join(pair) * 5
    yield from WALKS
    for walk in WALKS:
        for suffix in SUFFIXES[:12]:
            yield walk + suffix
    for word in WORDS:
        for form in {word, word.capitalize()}:
            for suffix in SUFFIXES:
                yield form + suffix
            for year in YEARS:
                yield form + year
            yield form * 2
            yield form + "." + form


def main() -> None:
    found = sorted({word for word in candidates() if len(word) >= MIN_LENGTH})
    OUT.write_text("".join(word + "\n" for word in found), encoding="utf-8")
    print(f"{len(found)} passwords written to {OUT}")


if __name__ == "__main__":
    main()
