# `make test` and `make book` work on a fresh machine: they create .venv and install what is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# JupyterLab settings of this environment: chapters (MyST markdown) open as notebooks through jupytext.
# The settings are kept in lab-settings/, which tests/test_browser.py gives the JupyterLab it starts.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: test lint book pdf lab clean-book rehearse-paper

# pip shows its own progress (downloading torch is the longest step on a machine without it).
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $(STAMP)

# The lint and type gate first (seconds), then the tests; pyproject.toml says how strict each check is.
test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

# First the studies the chapters read, with a progress bar each, into the cache the chapters then read back;
# a changed study key removes the chapters' execution cache, so that they rerun. Then the book, in which numbered
# figures and tables show where their directives stand, not also in their cells (BOOK_BUILD).
STUDIES := $(BIN)/python -m gradcam_study book --stamp _build/study-keys.json --execution-cache _build/.jupyter_cache
BOOK_BUILD := GRADCAM_STUDY_BOOK_BUILD=1 PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build . -W -n --keep-going
book: $(STAMP)
	$(STUDIES)
	$(BOOK_BUILD)

# A rehearsal of the paper profile (CI runs it after the book): the whole book in the paper profile, with random
# weights for every model, on the first REHEARSAL_IMAGES images of the sample ($$GRADCAM_STUDY_DATA, else fetched)
# laid out as ImageNetV2's class folders 0..999, on the CPU, into _build/rehearsal/_build/html with a study cache and
# an execution cache of its own. Every caption and page title says "rehearsal: random weights, N images — not results".
REHEARSAL_IMAGES ?= 3
REHEARSAL := _build/rehearsal
REHEARSAL_ENV := GRADCAM_STUDY_PROFILE=paper GRADCAM_STUDY_REHEARSAL=$(REHEARSAL_IMAGES) GRADCAM_STUDY_DEVICE=cpu \
	GRADCAM_STUDY_DATA="$(abspath $(REHEARSAL))/imagenetv2" GRADCAM_STUDY_CACHE="$(abspath $(REHEARSAL))/cache"
rehearse-paper: $(STAMP)
	$(BIN)/python -m gradcam_study.rehearsal layout "$${GRADCAM_STUDY_DATA:-$$($(BIN)/python -m gradcam_study fetch sample)}" \
		$(REHEARSAL)/imagenetv2 --images $(REHEARSAL_IMAGES)
	$(REHEARSAL_ENV) $(BIN)/python -m gradcam_study book --stamp $(REHEARSAL)/study-keys.json \
		--execution-cache $(REHEARSAL)/_build/.jupyter_cache
	$(REHEARSAL_ENV) GRADCAM_STUDY_BOOK_BUILD=1 PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build . \
		--path-output $(REHEARSAL) -W -n --keep-going

# The PDF edition, _build/pdf/gradcam-study.pdf: the same studies and chapters (read back from both caches after
# `make book`) as one page, printed by headless Chromium with a title page naming the edition. Sphinx writes that
# page under the name of the root chapter of _toc.yml.
pdf: $(STAMP)
	$(STUDIES)
	$(BOOK_BUILD) --builder singlehtml
	$(BIN)/python -m gradcam_study.publishing.printing _build/singlehtml/book/intro.html _build/pdf/gradcam-study.pdf

$(LAB_SETTINGS): lab-settings/overrides.json
	mkdir -p $(dir $@)
	cp $< $@

# JupyterLab on the chapters: double-click one to open it as a notebook (edits are saved to the .md file).
# As root (a container), JupyterLab must be told that this is intended.
lab: $(STAMP) $(LAB_SETTINGS)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter lab book/ --no-browser $(if $(filter 0,$(shell id -u)),--allow-root)

clean-book:
	rm -rf _build
