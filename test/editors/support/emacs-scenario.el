;;; emacs-scenario.el --- the Emacs end-to-end scenario  -*- lexical-binding: t; -*-
;; Run by test/editors/emacs.test.ts in `emacs --batch' with Debian's eglot 1.9: it drives
;; client-emacs/choppa.el like a user would and writes one JSON record per step to
;; $CHOPPA_RESULTS, so the test reports each step apart.  Waits on conditions, never on time.

;; The Emacs 30 the tests unpack has no C toolchain for libgccjit: no native compilation (a
;; user's Debian Emacs has one, so this is about the test machine, not about choppa.el).
(setq native-comp-enable-subr-trampolines nil
      native-comp-jit-compilation nil)
(require 'package)
;; Emacs 28 gets eglot from Debian's elpa-eglot; 29+ has it built in (and must not pick up
;; the older elpa copy).
(when (< emacs-major-version 29)
  (setq package-directory-list '("/usr/share/emacs/site-lisp/elpa")))
(package-initialize)
(require 'json)
(require 'flymake)
(add-to-list 'load-path (expand-file-name "client-emacs" (getenv "CHOPPA_REPO")))
(require 'choppa)

(defvar scenario-results nil)
(defvar scenario-messages nil)
(defvar scenario-prompts nil)
(defvar scenario-answer nil)

(defun scenario-write ()
  (with-temp-file (getenv "CHOPPA_RESULTS")
    (insert (json-encode `((version . ,emacs-version)
                           (eglot . ,(let ((desc (cadr (assq 'eglot package-alist))))
                                       (if desc (package-desc-version desc)
                                         (alist-get 'eglot package--builtin-versions))))
                           (steps . ,(vconcat (reverse scenario-results)))
                           (messages . ,(vconcat (reverse scenario-messages))))))))

(defmacro scenario-step (name &rest body)
  "Run BODY as step NAME; its value (an alist) is the step's detail."
  (declare (indent 1))
  `(let ((outcome (condition-case err (cons t (progn ,@body))
                    (error (cons nil (error-message-string err))))))
     (push `((name . ,,name) (ok . ,(if (car outcome) t :json-false)) (detail . ,(cdr outcome))) scenario-results)
     (scenario-write)))

(defun scenario-wait (what predicate &optional seconds)
  "Process input until PREDICATE returns non-nil (its value), or fail naming WHAT."
  (let ((deadline (+ (float-time) (or seconds 30))) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or value (error "timed out waiting for %s" what))))

(defun scenario-message (regexp)
  "The first message matching REGEXP, or nil."
  (seq-find (lambda (text) (string-match-p regexp text)) (reverse scenario-messages)))

(defun scenario-goto (text)
  (goto-char (point-min))
  (unless (search-forward text nil t) (error "text not found: %s" text))
  (goto-char (match-beginning 0)))

;; Every message the user would see in the echo area, and every prompt with its answer.
(advice-add 'message :around
            (lambda (original format-string &rest args)
              (when format-string (push (apply #'format-message format-string args) scenario-messages))
              (apply original format-string args)))
(advice-add 'read-string :override
            (lambda (prompt &optional initial &rest _)
              (push `((prompt . ,prompt) (initial . ,(or initial ""))) scenario-prompts)
              scenario-answer))

(setq python-indent-guess-indent-offset nil)
(setq choppa-server-command (append (json-parse-string (getenv "CHOPPA_SERVER_CMD") :array-type 'list) nil))
(choppa-eglot-setup)

(defvar scenario-server nil)

(scenario-step "attach"
  (find-file (getenv "CHOPPA_FILE"))
  (python-mode)
  (eglot-ensure)
  (call-interactively #'eglot)
  (setq scenario-server (scenario-wait "eglot to connect" (lambda () (eglot-current-server))))
  (scenario-wait "the server to initialize" (lambda () (eglot--server-capable :executeCommandProvider)))
  (flymake-start nil t)
  `((class . ,(symbol-name (eieio-object-class scenario-server)))
    (root . ,(directory-file-name (expand-file-name (project-root (eglot--project scenario-server)))))
    (commands . ,(eglot--server-capable :executeCommandProvider :commands))))

(defun scenario-diagnostic (prefix)
  "The flymake diagnostic whose text holds PREFIX, as (TEXT TYPE LINE), or nil."
  ;; Flymake defers its checks to idle time and commands, which batch Emacs never has.
  (flymake-start nil t)
  (seq-some (lambda (diagnostic)
              (let ((text (flymake-diagnostic-text diagnostic)))
                (when (string-search prefix text)
                  (list text (symbol-name (flymake-diagnostic-type diagnostic))
                        (line-number-at-pos (flymake-diagnostic-beg diagnostic))))))
            (flymake-diagnostics)))

(scenario-step "code action runs add"
  (scenario-goto "add(1, 2)")
  (let* ((actions (eglot-code-actions (point) nil nil nil))
         (action (or (seq-find (lambda (a) (equal (plist-get a :title) "Run add(1, 2) remotely")) actions)
                     (error "no Run add(1, 2) remotely among %S" (mapcar (lambda (a) (plist-get a :title)) actions))))
         (command (plist-get action :command))
         (started (float-time)))
    ;; What eglot does once an action is picked from its menu.
    (eglot-execute-command scenario-server (intern (plist-get command :command)) (plist-get command :arguments))
    (let ((returned (- (float-time) started))
          (found (scenario-wait "the result diagnostic" (lambda () (scenario-diagnostic "add(1, 2) → 3")))))
      `((titles . ,(vconcat (mapcar (lambda (a) (plist-get a :title)) actions)))
        (returnedSeconds . ,returned) (message . ,(nth 0 found)) (type . ,(nth 1 found)) (line . ,(nth 2 found))))))

(scenario-step "long run does not block"
  (scenario-goto "def slow")
  (let ((started (float-time)) returned progress ticks)
    (choppa-run)
    (setq returned (- (float-time) started))
    (setq progress (scenario-wait "progress in the mode line"
                                  (lambda () (let ((text (choppa-mode-line))) (and text (string-match-p "slow" text) text)))))
    ;; Emacs stays responsive meanwhile: a hover answers while the run goes on.
    (scenario-goto "add(1, 2)")
    (let ((hover (jsonrpc-request scenario-server :textDocument/hover (eglot--TextDocumentPositionParams))))
      (setq ticks (and hover (choppa-mode-line))))
    (let ((result (scenario-wait "slow to finish" (lambda () (scenario-message "^choppa: slow() → 11")) 60)))
      `((returnedSeconds . ,returned) (tookSeconds . ,(- (float-time) started)) (progress . ,progress)
        (modeLineDuringHover . ,ticks) (result . ,result) (modeLineAfter . ,(or (choppa-mode-line) ""))
        (timedOut . ,(if (scenario-message "[Tt]imed out") t :json-false))))))

(scenario-step "run prompts for arguments"
  (scenario-goto "def ratio")
  (setq scenario-answer "6, 3")
  (choppa-run)
  (scenario-wait "ratio(6, 3)" (lambda () (scenario-message "^choppa: ratio(6, 3)")))
  (setq scenario-answer "1, 4")
  (choppa-run)
  (scenario-wait "ratio(1, 4)" (lambda () (scenario-message "^choppa: ratio(1, 4)")))
  `((first . ,(scenario-message "^choppa: ratio(6, 3)")) (second . ,(scenario-message "^choppa: ratio(1, 4)"))
    (prompts . ,(vconcat (reverse scenario-prompts)))))

(scenario-step "hover is plain text"
  (scenario-goto "add(1, 2)")
  (let (info)
    (eglot-hover-eldoc-function (lambda (text &rest _) (setq info text)))
    (scenario-wait "the hover" (lambda () info))
    `((text . ,(substring-no-properties info)))))

(scenario-step "deref opens the preview"
  (scenario-goto "get_stuff()")
  (choppa-run)
  (scenario-wait "get_stuff to return a ref" (lambda () (scenario-message "^choppa: get_stuff() ")))
  (choppa-deref)
  (let ((preview (scenario-wait "the preview buffer"
                                (lambda () (seq-find (lambda (buffer) (string-match-p "/\\.choppa/artifacts/" (or (buffer-file-name buffer) "")))
                                                     (buffer-list))))))
    `((ran . ,(scenario-message "^choppa: get_stuff() "))
      (preview . ,(buffer-file-name preview))
      (firstLine . ,(with-current-buffer preview (buffer-substring-no-properties (point-min) (line-end-position 1))))
      (serverMessage . ,(or (scenario-message "Server reports.*\\.choppa/artifacts/") "")))))

(scenario-step "cancel stops a run"
  (scenario-goto "def slow")
  (choppa-run)
  (scenario-wait "the run to start" (lambda () (let ((text (choppa-mode-line))) (and text (string-match-p "slow" text)))))
  (choppa-cancel)
  (let ((done (scenario-wait "the cancelled run" (lambda () (scenario-message "^choppa: slow() cancelled")) 30)))
    `((cancelled . ,done) (said . ,(or (scenario-message "^choppa: cancelling") "")))))

(ignore-errors (eglot-shutdown scenario-server))
(scenario-write)
(kill-emacs 0)
