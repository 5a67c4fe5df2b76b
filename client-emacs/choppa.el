;;; choppa.el --- choppa-lsp in Emacs through eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9") (jsonrpc "1.0.14"))
;; Keywords: languages, tools

;;; Commentary:

;; Runs Choppa-decorated Python functions on a Databricks cluster (or the embedded local
;; backend) from Emacs, with choppa-lsp as eglot's Python server.  It adds what eglot leaves
;; out: long commands that do not block Emacs (eglot sends `workspace/executeCommand' as a
;; blocking request with a 10 s timeout), prompts for missing arguments, work-done progress
;; in the mode line, and opening what a command returns (eglot 1.9 has no showDocument).
;;
;;   (require 'choppa)
;;   (choppa-eglot-setup)               ; python-mode buffers use choppa-lsp
;;   (add-hook 'python-mode-hook #'eglot-ensure)
;;
;; Then `M-x choppa-run' on a decorated function or a call of one (or pick a run from
;; `eglot-code-actions': those do not block either).

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)
(require 'subr-x)

(defgroup choppa nil
  "Run Choppa functions remotely through choppa-lsp."
  :group 'tools
  :prefix "choppa-")

(defcustom choppa-server-command '("choppa-lsp" "--stdio")
  "The command that starts choppa-lsp, as a list of strings."
  :type '(repeat string))

(defcustom choppa-settings nil
  "The `choppa' settings section sent as initializationOptions, as a plist.
For example (:pythonPath \"python3.11\" :profile \"dev\").  Directory-local
`eglot-workspace-configuration' under `:choppa' is read too."
  :type '(plist :key-type symbol))

(defcustom choppa-command-timeout 86400
  "Seconds after which Emacs stops waiting for a run's answer.
The run itself is not bounded by this; use `choppa-cancel' to stop it."
  :type 'integer)

(defclass eglot-choppa (eglot-lsp-server) ()
  :documentation "An eglot server that is choppa-lsp.")

(defconst choppa--long-commands
  '("choppa.run" "choppa.runArtifact" "choppa.submit" "choppa.dereference" "choppa.cancel"
    "choppa.showLog" "choppa.listRuns")
  "Commands sent asynchronously and whose results this package shows.")

;;;###autoload
(defun choppa-eglot-setup ()
  "Make eglot start choppa-lsp for Python buffers.
eglot runs one server per major mode, so this replaces another Python server."
  (add-to-list 'eglot-server-programs
               `((python-mode python-ts-mode) . (eglot-choppa ,@choppa-server-command)))
  (unless (member '(:eval (choppa-mode-line)) global-mode-string)
    (setq global-mode-string (append (or global-mode-string '("")) '((:eval (choppa-mode-line)))))))

(cl-defmethod eglot-initialization-options ((_server eglot-choppa))
  (list :choppa (or choppa-settings eglot--{})))

(cl-defmethod eglot-client-capabilities ((_server eglot-choppa))
  ;; The package prompts for missing arguments itself, and shows work-done progress.
  (let ((capabilities (cl-call-next-method)))
    (setq capabilities (plist-put capabilities :experimental '(:choppa (:argumentPrompt t))))
    (plist-put capabilities :window
               (append '(:workDoneProgress t) (plist-get capabilities :window)))))

;; Progress, by token: (TITLE . LATEST-MESSAGE) of each work-done progress in flight.
(defvar choppa--progress (make-hash-table :test 'equal))

(defun choppa-mode-line ()
  "The mode-line text for the choppa runs in flight, or nil."
  (let (parts)
    (maphash (lambda (_token entry)
               (push (if (cdr entry) (format "%s · %s" (car entry) (truncate-string-to-width (cdr entry) 40))
                       (car entry))
                     parts))
             choppa--progress)
    (when parts
      (concat " " (propertize (concat "choppa: " (string-join (sort parts #'string<) " | "))
                              'face 'mode-line-emphasis)))))

(cl-defmethod eglot-handle-request
  ((_server eglot-choppa) (_method (eql window/workDoneProgress/create)) &key _token)
  "Accept the progress; its notifications update the mode line."
  nil)

(cl-defmethod eglot-handle-notification
  ((_server eglot-choppa) (_method (eql $/progress)) &key token value)
  "Show work-done progress in the mode line."
  (let ((key (format "%s" token))
        (message (plist-get value :message)))
    (pcase (plist-get value :kind)
      ("begin" (puthash key (cons (or (plist-get value :title) "") message) choppa--progress))
      ("report" (let ((entry (gethash key choppa--progress)))
                  (when entry (puthash key (cons (car entry) (or message (cdr entry))) choppa--progress))))
      ("end" (remhash key choppa--progress)))
    (force-mode-line-update t)))

;; eglot before 1.16 runs commands through `eglot-execute-command' (obsolete in Emacs 30).
(with-suppressed-warnings ((obsolete eglot-execute-command))
  (cl-defmethod eglot-execute-command ((server eglot-choppa) command arguments)
    "Send choppa's own commands without blocking Emacs; others as eglot does."
    (let ((name (format "%s" command)))
      (if (member name choppa--long-commands)
          (choppa--execute server name (and (> (length arguments) 0) (aref arguments 0)))
        (cl-call-next-method)))))

;; eglot 1.16 and later run code actions through `eglot-execute', not `eglot-execute-command'.
(cl-defmethod eglot-execute ((server eglot-choppa) action)
  "Send choppa's own commands in ACTION without blocking Emacs.
Other actions go to eglot."
  (let ((command (if (stringp (plist-get action :command)) action (plist-get action :command))))
    (if (and command (null (plist-get action :edit))
             (member (plist-get command :command) choppa--long-commands))
        (let ((arguments (plist-get command :arguments)))
          (choppa--execute server (plist-get command :command)
                           (and (> (length arguments) 0) (elt arguments 0))))
      (cl-call-next-method))))

(defun choppa--path-to-uri (path)
  "The file URI of PATH, with eglot 1.16's public function where there is one."
  (if (fboundp 'eglot-path-to-uri)
      (eglot-path-to-uri path)
    (with-suppressed-warnings ((obsolete eglot--path-to-uri))
      (eglot--path-to-uri path))))

;; Requests in flight, newest first: (id . description), for `choppa-cancel' with nothing
;; under point.
(defvar choppa--in-flight nil)

(defun choppa--execute (server command argument &optional on-result)
  "Send COMMAND with ARGUMENT to SERVER asynchronously; show or hand on its result."
  (let* ((buffer (current-buffer))
         (label (format "%s %s" command (or (plist-get argument :function) "")))
         (id nil))
    (setq id (car (jsonrpc-async-request
                   server :workspace/executeCommand
                   `(:command ,command :arguments [,argument])
                   :timeout choppa-command-timeout
                   :success-fn (lambda (result)
                                 (setq choppa--in-flight (assq-delete-all id choppa--in-flight))
                                 (if on-result (funcall on-result result)
                                   (choppa--show server command argument result buffer)))
                   :error-fn (lambda (error)
                               (setq choppa--in-flight (assq-delete-all id choppa--in-flight))
                               (choppa--message "%s" (or (plist-get error :message) error)))
                   :timeout-fn (lambda ()
                                 (setq choppa--in-flight (assq-delete-all id choppa--in-flight))
                                 (choppa--message "no answer to %s after %s s" label choppa-command-timeout)))))
    (push (cons id label) choppa--in-flight)
    id))

(defun choppa--message (format-string &rest args)
  "Say something short in the echo area, prefixed with choppa."
  (let ((text (apply #'format format-string args)))
    (message "choppa: %s" (truncate-string-to-width (replace-regexp-in-string "\n" " " text) 300))))

(defun choppa--format-bytes (size)
  "SIZE in bytes as the server writes it: 512 B, 17.6 KB, 176 KB, 1.2 GB."
  (if (not (numberp size)) "?"
    (let ((value (float size)) (units '("B" "KB" "MB" "GB" "TB")))
      (while (and (>= value 1024) (cdr units))
        (setq value (/ value 1024) units (cdr units)))
      (cond ((equal (car units) "B") (format "%d B" size))
            ((< value 100) (format "%.1f %s" value (car units)))
            (t (format "%d %s" (round value) (car units)))))))

(defun choppa--summary (result argument)
  "One line for a run RESULT of ARGUMENT."
  (let ((call (format "%s(%s)" (or (plist-get result :function) (plist-get argument :function))
                      (or (plist-get result :args) (plist-get argument :args) "")))
        (error (plist-get result :error))
        (ref (plist-get result :ref))
        (value (plist-get result :value)))
    (pcase (plist-get result :status)
      ("cancelled" (format "%s cancelled" call))
      ("submitted" (format "%s submitted (run %s)" call (plist-get result :runId)))
      ("ok" (cond (ref (format "%s → ArtifactRef %s (%s); M-x choppa-deref downloads it"
                               call (plist-get ref :path) (choppa--format-bytes (plist-get ref :size))))
                  (value (format "%s → %s" call (plist-get value :repr)))
                  (t (format "%s → None" call))))
      (_ (format "%s failed: %s: %s" call (plist-get error :type) (plist-get error :message))))))

(defun choppa--missing (result)
  "The parameter names RESULT says are missing, or nil."
  (let ((error (plist-get result :error)))
    (and (equal (plist-get result :status) "error")
         (equal (plist-get error :type) "ArgumentError")
         (append (plist-get error :missing) nil))))

;; The last arguments typed per function, to pre-fill the next prompt.
(defvar choppa--last-args (make-hash-table :test 'equal))

(defun choppa--ask-and-rerun (server command argument missing buffer)
  "Ask for MISSING parameters with `read-string', then send COMMAND again."
  (let* ((name (plist-get argument :function))
         (key (format "%s#%s" (plist-get argument :uri) name))
         (input (read-string (format "%s(%s): " name (string-join missing ", "))
                             (gethash key choppa--last-args))))
    (unless (string-empty-p (string-trim input))
      (puthash key input choppa--last-args)
      (with-current-buffer (if (buffer-live-p buffer) buffer (current-buffer))
        (choppa--execute server command (plist-put (copy-sequence argument) :args input))))))

(defun choppa--open (path)
  "Show PATH in another window, unless it is shown already."
  (when (and (stringp path) (file-readable-p path))
    (let ((buffer (find-file-noselect path)))
      (with-current-buffer buffer (revert-buffer t t t))
      (display-buffer buffer))))

(defun choppa--show (server command argument result buffer)
  "Show what COMMAND returned: a summary, a prompt, or a file to open."
  (pcase command
    ((or "choppa.run" "choppa.runArtifact" "choppa.submit")
     (let ((missing (choppa--missing result)))
       (if (and missing (null (plist-get argument :args)))
           ;; Out of the process filter, so the prompt is a normal minibuffer read.
           (run-at-time 0 nil #'choppa--ask-and-rerun server command argument missing buffer)
         (choppa--message "%s" (choppa--summary result argument)))))
    ("choppa.dereference"
     (choppa--message "%s (%s)" (plist-get result :localPath) (choppa--format-bytes (plist-get result :size)))
     (choppa--open (plist-get result :previewPath)))
    ("choppa.showLog" (choppa--open (plist-get result :path)))
    ("choppa.cancel" (choppa--message "%s" (plist-get result :message)))
    ("choppa.listRuns" (choppa--show-runs result))))

(defun choppa--show-runs (result)
  "List RESULT of choppa.listRuns in the *choppa runs* buffer."
  (with-current-buffer (get-buffer-create "*choppa runs*")
    (let ((inhibit-read-only t))
      (erase-buffer)
      (insert "Running:\n")
      (seq-doseq (run (plist-get result :running))
        (insert (format "  %s  %s  started %s\n" (plist-get run :function) (plist-get run :runId) (plist-get run :startedAt))))
      (insert "Submitted:\n")
      (seq-doseq (job (plist-get result :submitted))
        (insert (format "  %s  %s  %s\n" (plist-get job :function) (plist-get job :id) (plist-get job :state))))
      (insert "Results:\n")
      (seq-doseq (record (plist-get result :results))
        (insert (format "  %s  %s  %s%s\n" (plist-get record :function) (plist-get record :status)
                        (plist-get record :finishedAt)
                        (if (plist-get record :ref) (format "  %s" (plist-get record :ref)) ""))))
      (special-mode))
    (display-buffer (current-buffer))))

(defun choppa--server ()
  "The choppa-lsp server of this buffer, or an error saying how to get one."
  (let ((server (eglot-current-server)))
    (unless (and server (cl-typep server 'eglot-choppa))
      (user-error "choppa: this buffer is not managed by choppa-lsp (M-x eglot after `choppa-eglot-setup')"))
    server))

(defun choppa--argument-at-point (server command)
  "The arguments of COMMAND among the server's code actions at point, or nil.
COMMAND may be a list of commands.  An `@x.artifact' function offers only
\"choppa.runArtifact\" (it always runs as one), so \"choppa.run\" takes that too."
  (let ((accepted (cond ((listp command) command)
                        ((equal command "choppa.run") '("choppa.run" "choppa.runArtifact"))
                        (t (list command))))
        (actions (jsonrpc-request
                  server :textDocument/codeAction
                  (list :textDocument (eglot--TextDocumentIdentifier)
                        :range (list :start (eglot--pos-to-lsp-position (point))
                                     :end (eglot--pos-to-lsp-position (point)))
                        :context (list :diagnostics [])))))
    (cl-loop for action across actions
             for cmd = (if (stringp (plist-get action :command)) action (plist-get action :command))
             when (and cmd (member (plist-get cmd :command) accepted)
                       (> (length (plist-get cmd :arguments)) 0))
             return (copy-sequence (aref (plist-get cmd :arguments) 0)))))

(defun choppa--run-command (command args)
  "Send run-like COMMAND for the function at point, with ARGS when given."
  (let* ((server (choppa--server))
         (argument (or (choppa--argument-at-point server command)
                       (user-error "choppa: no Choppa function or call at point"))))
    (when (and args (not (string-empty-p (string-trim args))))
      (setq argument (plist-put argument :args args)))
    (choppa--execute server command argument)))

(defun choppa--read-args ()
  "With a prefix argument, ask for the arguments up front."
  (when current-prefix-arg (list (read-string "Arguments (Python): "))))

;;;###autoload
(defun choppa-run (&optional args)
  "Run the Choppa function at point remotely; with a prefix argument, ask for ARGS.
Required parameters nobody gave are asked for with `read-string'."
  (interactive (choppa--read-args))
  (choppa--run-command "choppa.run" args))

;;;###autoload
(defun choppa-run-artifact (&optional args)
  "Run the Choppa function at point as an artifact.
With a prefix argument, ask for ARGS first."
  (interactive (choppa--read-args))
  (choppa--run-command "choppa.runArtifact" args))

;;;###autoload
(defun choppa-submit (&optional args)
  "Submit the Choppa function at point as a job.
With a prefix argument, ask for ARGS first."
  (interactive (choppa--read-args))
  (choppa--run-command "choppa.submit" args))

(defun choppa--target-at-point (server)
  "The {uri, function} of the Choppa function at point, or nil."
  (let ((argument (choppa--argument-at-point server '("choppa.run" "choppa.runArtifact" "choppa.submit"))))
    (and argument (list :uri (plist-get argument :uri) :function (plist-get argument :function)))))

;;;###autoload
(defun choppa-deref (&optional function)
  "Download the last artifact of the function at point (or FUNCTION).
The verified copy's preview is shown in another window."
  (interactive)
  (let* ((server (choppa--server))
         (target (if (and function (not (string-empty-p function)))
                     (list :uri (choppa--path-to-uri (buffer-file-name)) :function function)
                   (or (choppa--target-at-point server)
                       (user-error "choppa: no Choppa function or call at point")))))
    (choppa--execute server "choppa.dereference" target)))

;;;###autoload
(defun choppa-cancel ()
  "Cancel the run (or submitted job) of the function at point.
With no function at point, cancel the request this package sent last."
  (interactive)
  (let* ((server (choppa--server))
         (target (choppa--target-at-point server)))
    (cond (target (choppa--execute server "choppa.cancel" target))
          (choppa--in-flight
           (jsonrpc-notify server :$/cancelRequest (list :id (caar choppa--in-flight)))
           (choppa--message "cancelling %s" (cdar choppa--in-flight)))
          (t (choppa--message "nothing to cancel")))))

;;;###autoload
(defun choppa-log ()
  "Open the run log of the function at point."
  (interactive)
  (let* ((server (choppa--server))
         (target (or (choppa--target-at-point server)
                     (user-error "choppa: no Choppa function or call at point"))))
    (choppa--execute server "choppa.showLog" target)))

;;;###autoload
(defun choppa-runs ()
  "List the runs in flight, the submitted jobs and the stored results."
  (interactive)
  (let ((server (choppa--server)))
    (choppa--execute server "choppa.listRuns" (list :uri (choppa--path-to-uri (buffer-file-name))))))

(provide 'choppa)
;;; choppa.el ends here
