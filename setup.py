"""The wheel compiles the message catalogues (portal/translations/*/LC_MESSAGES/messages.po into
.mo beside them) as it builds, so an installed portal serves every language with nothing done by
hand (docs/translating.md). Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("portal/translations").glob("*/LC_MESSAGES/messages.po")):
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalogue = read_po(source, locale=po.parts[-3])
            with target.open("wb") as out:
                write_mo(out, catalogue, use_fuzzy=True)


setup(cmdclass={"build_py": BuildWithCatalogues})
