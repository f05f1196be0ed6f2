"""`demoapp gcd A B`, `demoapp prime N`, `demoapp info`."""

import sys

import demoutil
import pydemo
import six
from packaging.version import Version


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["gcd"] and len(args) == 3:
        print(pydemo.gcd(int(args[1]), int(args[2])))
    elif args[:1] == ["prime"] and len(args) == 2:
        print("prime" if pydemo.is_prime(int(args[1])) else "not prime")
    elif args[:1] == ["info"]:
        print(demoutil.banner("demoapp"))
        print("libdemo", pydemo.libversion())
        print("six", six.__version__, "| packaging >= 20:", Version(__import__("packaging").__version__) >= Version("20"))
    else:
        print("usage: demoapp gcd A B | prime N | info", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
