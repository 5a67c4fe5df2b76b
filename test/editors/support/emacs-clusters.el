;;; emacs-clusters.el --- Emacs and the cluster, for test/editors/emacs-clusters.test.ts  -*- lexical-binding: t; -*-
;; In `emacs --batch': open a file whose `Choppa(...)' names a terminated cluster, wait until
;; eglot's code actions there offer "Use cluster beta" (the cluster list arrives with the first
;; question), pick it from `eglot-code-actions' as a user would (its `completing-read'), save,
;; and write what was offered and the line as it is now to $CHOPPA_RESULTS.

;; The Emacs 30 the tests unpack has no C toolchain for libgccjit (see emacs-scenario.el).
(setq native-comp-enable-subr-trampolines nil
      native-comp-jit-compilation nil)
(require 'package)
(when (< emacs-major-version 29)
  (setq package-directory-list '("/usr/share/emacs/site-lisp/elpa")))
(package-initialize)
(require 'json)
(add-to-list 'load-path (expand-file-name "client-emacs" (getenv "CHOPPA_REPO")))
(require 'choppa)
(setq python-indent-guess-indent-offset nil)
(setq choppa-server-command (append (json-parse-string (getenv "CHOPPA_SERVER_CMD") :array-type 'list) nil))
(choppa-eglot-setup)

(defvar clusters-picked nil "The menu `completing-read' showed when an action was picked.")
(advice-add 'completing-read :override
            (lambda (_prompt collection &rest _)
              (let ((titles (all-completions "" collection)))
                (setq clusters-picked titles)
                (or (seq-find (lambda (title) (string-prefix-p "Use cluster beta" title)) titles)
                    (error "no \"Use cluster beta\" among %S" titles)))))

(defun clusters-wait (what predicate seconds)
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.1))
    (or value (error "timed out waiting for %s" what))))

(defun clusters-titles ()
  (mapcar (lambda (action) (plist-get action :title)) (eglot-code-actions (point) nil nil nil)))

(defvar clusters-stage "start")
(let (result)
  (condition-case err
      (progn
        (find-file (getenv "CHOPPA_FILE"))
        (python-mode)
        (eglot-ensure)
        (call-interactively #'eglot)
        (clusters-wait "eglot to connect" #'eglot-current-server 60)
        (clusters-wait "the server to initialize" (lambda () (eglot--server-capable :executeCommandProvider)) 60)
        (goto-char (point-min))
        (search-forward "Choppa(")
        (setq clusters-stage "waiting for the actions")
        (let ((offered (clusters-wait "\"Use cluster beta\" among the code actions"
                                      (lambda () (let ((titles (clusters-titles)))
                                                   (and (member "Use cluster beta" titles) titles)))
                                      30)))
          (setq clusters-stage "picking from eglot-code-actions")
          ;; As from the keyboard (`M-x eglot-code-actions'): batch Emacs's last event is nil, a
          ;; list, which would send eglot 1.9 to a mouse menu.
          (let ((last-nonmenu-event ?\r))
            (call-interactively #'eglot-code-actions))
          (setq clusters-stage "the edit")
          (clusters-wait "the edit" (lambda () (save-excursion (goto-char (point-min)) (search-forward "0102-222222-beta" nil t))) 10)
          (save-buffer)
          (setq result `((offered . ,(vconcat offered))
                         (menu . ,(vconcat clusters-picked))
                         (line . ,(save-excursion (goto-char (point-min)) (search-forward "Choppa(")
                                                  (buffer-substring-no-properties (line-beginning-position) (line-end-position))))))))
    (error (setq result `((error . ,(format "%s: %s" clusters-stage (error-message-string err)))))))
  (with-temp-file (getenv "CHOPPA_RESULTS") (insert (json-encode result))))
(kill-emacs 0)
